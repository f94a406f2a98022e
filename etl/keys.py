"""The per-warehouse key of the keyed hash that links repeat petitioners.

The key lives in a file beside the warehouse (`<warehouse>.key`, readable by its owner
only), never inside it: whoever gets a copy of the warehouse gets masked names and
hashes, not the means to test guesses against them. Lose the key and new loads can no
longer be linked to earlier ones; keep it with the office's backups of the warehouse.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


class KeyError_(ValueError):
    """The key file is missing or does not belong to this warehouse."""


def key_path(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.name + ".key")


def create_key(db: str | os.PathLike) -> str:
    """A new random key written to the key file (mode 600); returns it."""
    key = secrets.token_hex(32)
    path = key_path(db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def read_key(db: str | os.PathLike, fingerprint: str | None = None) -> str:
    path = key_path(db)
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        raise KeyError_(f"找不到密钥文件 {path}: 它由 init 生成, 与数据仓库放在一起; 没有它无法对身份信息做关联哈希") from None
    if fingerprint and fingerprint_of(key) != fingerprint:
        raise KeyError_(f"密钥文件 {path} 不属于数据仓库 {db} (指纹不符)")
    return key


def fingerprint_of(key: str) -> str:
    """A short public fingerprint stored in the warehouse to recognise its key file."""
    return hashlib.sha256(("fingerprint:" + key).encode()).hexdigest()[:16]
