"""Which warnings (analysis.alerts) were seen before: the data date each warning key first
appeared on, kept in the access store beside the warehouse (`<warehouse>.access.sqlite`, table
alerts_seen, declared with the store's schema in access.store), so a warning is "new" only on
the first data date it shows, whoever looked."""

from __future__ import annotations

import datetime as dt

from .store import _db


def first_seen(db, keys: list[str], as_of: str) -> dict[str, str]:
    """Record `keys` seen on the data date `as_of` (YYYY-MM-DD) where they are not yet known;
    return each key's first data date. A key first recorded on a later data date (a warehouse
    rebuilt with older data) takes the earlier one."""
    now = dt.datetime.now().isoformat(timespec="seconds")
    with _db(db) as con:
        con.executemany("""INSERT INTO alerts_seen VALUES (?, ?, ?)
                           ON CONFLICT (key) DO UPDATE SET first_as_of = excluded.first_as_of
                           WHERE excluded.first_as_of < alerts_seen.first_as_of""",
                        [(k, as_of, now) for k in keys])
        out: dict[str, str] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            out.update(con.execute(f"SELECT key, first_as_of FROM alerts_seen WHERE key IN ({','.join('?' * len(part))})",
                                   part).fetchall())
    return out


def recorder(db, problems: list[str]):
    """`first_seen` for `db` that never fails a warning list: when the store cannot be written
    (read-only, locked, damaged) the problem is appended to `problems` in Chinese and every
    warning counts as new."""
    def seen(keys: list[str], as_of: str) -> dict[str, str]:
        try:
            return first_seen(db, keys, as_of)
        except Exception as e:  # noqa: BLE001 - "seen before" is a convenience, the warnings are not
            problems.append(f"未能读写预警的首次出现记录 ({e}); 本次各项预警均按首次出现显示")
            return {}
    return seen
