"""Who may see what: accounts, roles, sign-in and the audit trail.

Accounts and the audit log live beside the warehouse in `<warehouse>.access.sqlite` (mode
600), not inside it: the warehouse is written by copying it and swapping the copy in
(etl.db.writing), which suits loads but not the many small writes of sign-ins and audit
entries from several processes at once; SQLite's own locking does. Passwords are stored
only as argon2id hashes. Nothing here imports streamlit: the dashboard (dashboard/auth.py)
and the CLI (cli/access.py) call it.
"""
