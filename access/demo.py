"""The demo's accounts: one per role, so a newcomer signs in with what `make run` prints.

Only for a warehouse marked as demo data (演示数据); the password is public by design, and
the server listens on this machine only unless `server_address` says otherwise."""

from __future__ import annotations

from . import store

DEMO_PASSWORD = "minqing-demo"
DEMO_ACCOUNTS = (("leader", "leader"), ("planner", "planner"), ("town", "town"), ("admin", "admin"))


def ensure_demo_accounts(db, town_code: str, town_name: str) -> list[tuple[str, str]]:
    """Create the missing demo accounts (the town account sees `town_name`); (name, role) of all four."""
    have = {u.name for u in store.list_users(db)}
    for name, role in DEMO_ACCOUNTS:
        if name not in have:
            town = (town_code, town_name) if role == "town" else (None, None)
            store.add_user(db, name, role, DEMO_PASSWORD, town_code=town[0], town_name=town[1], by="demo")
    return list(DEMO_ACCOUNTS)
