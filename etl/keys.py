"""The per-warehouse key of the keyed hash that links repeat petitioners.

The key lives in a file beside the warehouse (`<warehouse>.key`, readable by its owner
only), never inside it: whoever gets a copy of the warehouse gets masked names and
hashes, not the means to test guesses against them. Lose the key and new loads can no
longer be linked to earlier ones; keep it with the office's backups of the warehouse.

A key and its warehouse are only ever replaced together (`new_warehouse`): whatever fails,
is refused or is killed, the key file still belongs to the warehouse beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    import duckdb


class KeyError_(ValueError):
    """The key file is missing or does not belong to this warehouse."""


def key_path(db: str | os.PathLike) -> Path:
    """`<warehouse>.key` beside the real file (a symlinked warehouse's key sits beside its target)."""
    db = Path(db).resolve()
    return db.with_name(db.name + ".key")


def _waiting_path(db: str | os.PathLike) -> Path:
    """Where a new key waits (`<warehouse>.key.new`) until its warehouse has been swapped in."""
    path = key_path(db)
    return path.with_name(path.name + ".new")


@contextlib.contextmanager
def new_warehouse(db: str | os.PathLike) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """An empty warehouse to fill at `db` and its new key, `(con, key)`; what `init` and `demo` use.

    The writer's lock comes first (etl.db.writing; Busy if taken). The new key waits in
    `<warehouse>.key.new` and replaces the key file right after the new warehouse has been
    swapped in, still under the lock. A failure, a refusal or a kill before that swap leaves the
    old warehouse and its key as they were; a kill between the two swaps is mended by the next
    `read_key`, which adopts the waiting key when it is the warehouse's.
    """
    from .db import writing

    key = secrets.token_hex(32)
    with writing(db, fresh=True, on_swap=lambda real: _install(real, key)) as con:
        waiting = _waiting_path(db)
        _write_private(waiting, key)
        try:
            yield con, key
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                waiting.unlink()
            raise


def _install(db: Path, key: str) -> None:
    """The waiting key becomes the key file (right after its warehouse was swapped in)."""
    path, waiting = key_path(db), _waiting_path(db)
    with contextlib.suppress(FileNotFoundError):  # read_key may have adopted it already
        os.replace(waiting, path)
        return
    if _read(path) != key:  # the waiting file went missing: write the key from memory
        _write_private(waiting, key)
        os.replace(waiting, path)


def install_pair(db: str | os.PathLike, new_file: Path, key: str) -> None:
    """Swap the warehouse file `new_file` (beside `db`, same file system) in as `db`, with `key` as
    its key: the key waits in `<warehouse>.key.new` first, exactly as for `new_warehouse`, so a kill
    between the two swaps is mended by the next `read_key`. The caller holds the writer's lock."""
    db = Path(db).resolve()
    _write_private(_waiting_path(db), key)
    os.replace(new_file, db)
    _install(db, key)


def read_key(db: str | os.PathLike, fingerprint: str | None = None) -> str:
    """The key of the warehouse `db`; with its `fingerprint` (meta.key_fingerprint), checked.

    A writer killed between swapping in a new warehouse and its key left that key waiting
    (`new_warehouse`): it is adopted here when its fingerprint is the warehouse's.
    """
    path = key_path(db)
    key = _read(path)
    if fingerprint and (key is None or fingerprint_of(key) != fingerprint):
        waiting = _read(_waiting_path(db))
        if waiting is not None and fingerprint_of(waiting) == fingerprint:
            with contextlib.suppress(FileNotFoundError):  # another reader adopted it first
                os.replace(_waiting_path(db), path)
            return waiting
    if key is None:
        raise KeyError_(f"找不到密钥文件 {path}: 它由 init 生成, 与数据仓库放在一起; 没有它无法对身份信息做关联哈希")
    if fingerprint and fingerprint_of(key) != fingerprint:
        raise KeyError_(f"密钥文件 {path} 不属于数据仓库 {db} (指纹不符)")
    return key


def fingerprint_of(key: str) -> str:
    """A short public fingerprint stored in the warehouse to recognise its key file."""
    return hashlib.sha256(("fingerprint:" + key).encode()).hexdigest()[:16]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _write_private(path: Path, key: str) -> None:
    """`key` to a new file at `path` readable by its owner only (mode 600), on disk before it is used."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a file left behind keeps its mode when truncated; start afresh
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
