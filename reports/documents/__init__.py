"""The documents offices send, as Word files (.docx): the ten-day information digest
(十日信息摘报, `digest`), the monthly analysis (`monthly`) and one area's report (一区一报, `area`).

Each kind gathers its figures from the analyses (analysis/) into a plain `model.Document`
(header, headings, paragraphs, tables, images, recipients), and `docx_writer.write` turns any
Document into a .docx with the named styles of the template (setting report_template).
`build(con, kind, ...)` is the one entry point of the CLI and the dashboard.
"""

# the kinds of document, with their names: here, so that a page or a command can list them without
# importing the document stack (analyses, matplotlib, python-docx)
KINDS = {"digest": "十日信息摘报", "monthly": "月度分析", "area": "一区一报"}
