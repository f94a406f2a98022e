"""Schema 2: each case's content fingerprint is stored as it is merged (`cases.content_md5`).

Existing cases keep NULL here; the next load fills them in (etl/merge.py) before comparing rows.
"""

from __future__ import annotations


def upgrade(con) -> None:
    con.execute("ALTER TABLE cases ADD COLUMN IF NOT EXISTS content_md5 VARCHAR")
