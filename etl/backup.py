"""Backups of a warehouse: a consistent copy of the warehouse, its key and its accounts store,
with a manifest; verification of a backup, and putting one back.

A backup folder holds the three files under their own names (`<file>`, `<file>.key`,
`<file>.access.sqlite` when there are accounts) and `manifest.json`: the product and schema
versions, when it was made, each file's size and SHA-256, and the rows of every table. Writers
replace the warehouse file as a whole (etl.db.writing), so a copy taken under the writer's lock is
consistent while the dashboard keeps reading; the accounts store is copied with SQLite's backup API.
A backup is written to a hidden folder beside its destination and renamed when complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT = 1  # of manifest.json
WAIT_SECONDS = 600.0  # how long a backup or restore waits for a running load before giving up
_STAMPED = re.compile(r"minqing-\d{8}-\d{6}(-\d+)?")


class BackupError(RuntimeError):
    """A backup cannot be made, is damaged or cannot be put back (the message is for the user)."""


def access_store_path(db: str | os.PathLike) -> Path:
    """`<warehouse>.access.sqlite` beside the real file: the accounts and the audit log (access.store)."""
    real = Path(db).resolve()
    return real.with_name(real.name + ".access.sqlite")


def backup(db: str | os.PathLike, out: str | os.PathLike, *, wait: float = WAIT_SECONDS) -> dict:
    """Write a backup of the warehouse `db` to the new folder `out`; returns its manifest.

    Waits up to `wait` seconds for a load holding the writer's lock (etl.db.Busy after that)."""
    from .db import writer_lock
    from .keys import KeyError_, key_path, read_key

    db, out = Path(db).resolve(), Path(out)
    if not db.exists():
        raise BackupError(f"数据仓库 {db} 不存在, 无法备份")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"备份目录 {out} 已存在且不为空; 请换一个新目录")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        with writer_lock(db, wait=wait):  # no load swaps the file while it is copied
            shutil.copyfile(db, work / db.name)
            info = _describe(work / db.name)
            try:
                read_key(db, info["key_fingerprint"])
            except KeyError_ as e:
                raise BackupError(f"{e}; 没有它的备份无法用于后续导入, 备份未进行") from None
            shutil.copyfile(key_path(db), work / key_path(db).name)
            store = access_store_path(db)
            if store.exists():
                _sqlite_copy(store, work / store.name)
        for f in work.iterdir():
            os.chmod(f, 0o600)
        manifest = {
            "format": FORMAT,
            "product": "minqing",
            "product_version": _product_version(),
            "schema_version": info["schema_version"],
            "created_at": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
            "source": str(db),
            "warehouse": db.name,
            "key_fingerprint": info["key_fingerprint"],
            "files": {f.name: {"bytes": f.stat().st_size, "sha256": sha256(f)} for f in sorted(work.iterdir())},
            "tables": info["tables"],
            "access_tables": _sqlite_counts(work / store.name) if (work / store.name).exists() else {},
        }
        _write_synced(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(work, out)
        os.chmod(out, 0o700)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def backup_into(db: str | os.PathLike, parent: str | os.PathLike, *, keep: int, wait: float = WAIT_SECONDS) -> tuple[Path, dict, list[Path]]:
    """A backup in a new timestamped folder `parent/minqing-YYYYMMDD-HHMMSS`, then only the newest
    `keep` such backups are kept (other files in `parent` are left alone). Returns (folder, manifest, removed)."""
    if keep < 1:
        raise BackupError(f"保留份数 {keep} 无效: 至少保留 1 份")
    parent = Path(parent)
    stamp = dt.datetime.now().strftime("minqing-%Y%m%d-%H%M%S")
    out, n = parent / stamp, 1
    while out.exists():
        n += 1
        out = parent / f"{stamp}-{n}"
    manifest = backup(db, out, wait=wait)
    backups = sorted((p for p in parent.iterdir() if p.is_dir() and _STAMPED.fullmatch(p.name) and (p / MANIFEST).exists()),
                     key=lambda p: (p.name[:23], int(p.name[24:] or 1)), reverse=True)
    removed = backups[keep:]
    for p in removed:
        shutil.rmtree(p)
    return out, manifest, removed


def verify(folder: str | os.PathLike) -> dict:
    """The manifest of the backup in `folder` after checking every file's SHA-256, the warehouse's
    row counts and that its key is the warehouse's; BackupError naming the file otherwise."""
    from .keys import fingerprint_of

    folder = Path(folder)
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files, tables, name = manifest["files"], manifest["tables"], manifest["warehouse"]
    except FileNotFoundError:
        raise BackupError(f"{folder} 不是民情地图的备份: 缺少 {MANIFEST}") from None
    except (ValueError, KeyError, TypeError) as e:
        raise BackupError(f"备份清单 {path} 已损坏或不完整 ({e}); 拒绝使用此备份") from None
    for need in (name, name + ".key"):
        if need not in files:
            raise BackupError(f"备份清单 {path} 未列出 {need}; 拒绝使用此备份")
    for fname, spec in files.items():
        f = folder / fname
        if not f.is_file():
            raise BackupError(f"备份文件 {f} 缺失; 拒绝使用此备份")
        if f.stat().st_size != spec["bytes"] or sha256(f) != spec["sha256"]:
            raise BackupError(f"备份文件 {f} 已损坏 (与备份清单的 SHA-256 校验值不符); 拒绝使用此备份")
    try:
        info = _describe(folder / name)
    except BackupError:
        raise
    except Exception as e:
        raise BackupError(f"备份文件 {folder / name} 无法作为数据仓库打开 ({e}); 拒绝使用此备份") from None
    if info["tables"] != tables:
        diff = [f"{t} ({tables.get(t, '无')} → {info['tables'].get(t, '无')})" for t in sorted(set(tables) | set(info["tables"]))
                if tables.get(t) != info["tables"].get(t)]
        raise BackupError(f"备份文件 {folder / name} 的行数与备份清单不符: {', '.join(diff)}; 拒绝使用此备份")
    key = (folder / (name + ".key")).read_text().strip()
    if fingerprint_of(key) != info["key_fingerprint"]:
        raise BackupError(f"备份文件 {folder / (name + '.key')} 不是数据仓库 {name} 的密钥 (指纹不符); 拒绝使用此备份")
    return manifest


def restore(folder: str | os.PathLike, db: str | os.PathLike, *, wait: float = WAIT_SECONDS) -> dict:
    """Put the backup in `folder` back as the warehouse `db` (its key and accounts store beside it),
    after `verify`. Each file is first written beside its destination and then renamed over it;
    the warehouse and its key are swapped as a pair (etl.keys.install_pair) under the writer's lock."""
    from .db import _remove, writer_lock
    from .keys import install_pair

    folder, db = Path(folder), Path(db).resolve()
    manifest = verify(folder)
    name = manifest["warehouse"]
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp_db = db.with_name(f".{db.name}.{os.getpid()}.restore")
    store_src, store = folder / (name + ".access.sqlite"), access_store_path(db)
    tmp_store = store.with_name(f".{store.name}.{os.getpid()}.restore")
    try:
        with writer_lock(db, wait=wait):
            _copy_synced(folder / name, tmp_db)
            if store_src.exists():
                _sqlite_copy(store_src, tmp_store)
            if sha256(tmp_db) != manifest["files"][name]["sha256"]:
                raise BackupError(f"复制 {folder / name} 到 {tmp_db} 后校验值不符 (磁盘故障?); 原数据仓库未改动")
            key = (folder / (name + ".key")).read_text().strip()
            install_pair(db, tmp_db, key)
            _remove(Path(str(db) + ".wal"))
            if store_src.exists():
                os.replace(tmp_store, store)
    finally:
        for t in (tmp_db, tmp_store):
            with contextlib.suppress(FileNotFoundError):
                t.unlink()
    return manifest


# ---------------------------------------------------------------------------- helpers

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _describe(path: Path) -> dict:
    """Schema version, key fingerprint and rows per table of the warehouse file `path`."""
    from .db import connect
    from .migrations import table_counts, version_of

    con = connect(path, read_only=True)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        return {"schema_version": version_of(con), "key_fingerprint": meta.get("key_fingerprint"),
                "tables": table_counts(con)}
    finally:
        con.close()


def _sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite database while others may write it (SQLite's backup API)."""
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()
    _fsync(dst)


def _sqlite_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def _copy_synced(src: Path, dst: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
        shutil.copyfileobj(f, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _product_version() -> str:
    from .migrations import product_version

    return product_version()
