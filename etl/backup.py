"""Backups of a warehouse: a consistent copy of the warehouse, its key and its accounts store,
with a manifest; putting one back (the checks of a backup are in etl.backup_verify).

A backup folder holds the three files under their own names (`<file>`, `<file>.key`,
`<file>.access.sqlite` when there are accounts) and `manifest.json`: the product and schema
versions, the district, when it was made, each file's size and SHA-256, and the rows of every
table. Writers replace the warehouse file as a whole (etl.db.writing), so a copy taken under the
writer's lock is consistent while the dashboard keeps reading; the accounts store is copied with
SQLite's backup API. A backup is written to a hidden `.partial` folder (beside its destination, or
inside it when it is an existing empty folder), synced to disk, and only then named.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from .backup_verify import (FORMAT, MANIFEST, BackupError, check_key, describe, file_errors,  # noqa: F401 (re-exported)
                            sha256, sqlite_counts, verify)

WAIT_SECONDS = 600.0  # how long a backup or restore waits for a running load before giving up
_STAMPED = re.compile(r"minqing-\d{8}-\d{6}(-\d+)?")

__all__ = ["BackupError", "MANIFEST", "FORMAT", "access_store_path", "backup", "backup_into", "restore", "verify"]


def access_store_path(db: str | os.PathLike) -> Path:
    """`<warehouse>.access.sqlite` beside the real file: the accounts and the audit log (access.store)."""
    real = Path(db).resolve()
    return real.with_name(real.name + ".access.sqlite")


def backup(db: str | os.PathLike, out: str | os.PathLike, *, wait: float = WAIT_SECONDS) -> dict:
    """Write a backup of the warehouse `db` to the folder `out` (new, or existing and empty); returns
    its manifest. Waits up to `wait` seconds for a load holding the writer's lock (etl.db.Busy after that)."""
    db, out = Path(db).resolve(), Path(out)
    if not db.exists():
        raise BackupError(f"数据仓库 {db} 不存在, 无法备份")
    with file_errors("无法写入备份目录", out):
        if out.is_dir():
            _remove_stale_partials(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BackupError(f"备份目录 {out} 已存在且不为空; 请换一个新目录")
        if out.is_dir():  # e.g. a mount point: build inside it, then move the files up
            work = out / f".{os.getpid()}.partial"
            shutil.rmtree(work, ignore_errors=True)
            return _make(db, work, lambda: _move_up(work, out), wait)[1]
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(out.parent)
        work = out.with_name(f".{out.name}.{os.getpid()}.partial")
        shutil.rmtree(work, ignore_errors=True)
        return _make(db, work, lambda: _rename(work, out), wait)[1]


def backup_into(db: str | os.PathLike, parent: str | os.PathLike, *, keep: int,
                wait: float = WAIT_SECONDS) -> tuple[Path, dict, list[Path]]:
    """A backup in a new timestamped folder `parent/minqing-YYYYMMDD-HHMMSS`; once it is on disk and
    verified, only the newest `keep` backups of this warehouse are kept (other files and other
    warehouses' backups in `parent` are left alone). Returns (folder, manifest, removed)."""
    if keep < 1:
        raise BackupError(f"保留份数 {keep} 无效: 至少保留 1 份")
    db, parent = Path(db).resolve(), Path(parent)
    if not db.exists():
        raise BackupError(f"数据仓库 {db} 不存在, 无法备份")
    with file_errors("无法写入备份目录", parent):
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(parent)
        work = Path(tempfile.mkdtemp(prefix=".minqing.", suffix=f".{os.getpid()}.partial", dir=parent))
        out, manifest = _make(db, work, lambda: _rename(work, _new_name(parent)), wait)
    try:
        verify(out)
    except BackupError as e:
        raise BackupError(f"新备份 {out} 核对未通过 ({e}); 较早的备份均未删除") from None
    with file_errors("无法删除较早的备份", parent):
        removed = _prune(parent, db, keep)
    return out, manifest, removed


def _new_name(parent: Path) -> Path:
    """A timestamped name not yet taken (called under the writer's lock, so two backups of one
    warehouse in the same second get two names)."""
    stamp = _stamp()
    out, n = parent / stamp, 1
    while out.exists():
        n += 1
        out = parent / f"{stamp}-{n}"
    return out


def _stamp() -> str:
    return dt.datetime.now().strftime("minqing-%Y%m%d-%H%M%S")


def _prune(parent: Path, db: Path, keep: int) -> list[Path]:
    def ours(p: Path) -> bool:
        try:
            return json.loads((p / MANIFEST).read_text(encoding="utf-8")).get("source") == str(db)
        except (OSError, ValueError, AttributeError):
            return False

    backups = sorted((p for p in parent.iterdir() if p.is_dir() and _STAMPED.fullmatch(p.name) and ours(p)),
                     key=lambda p: (p.name[:23], int(p.name[24:] or 1)), reverse=True)
    for p in backups[keep:]:
        shutil.rmtree(p)
    return backups[keep:]


def _make(db: Path, work: Path, place: Callable[[], Path], wait: float) -> tuple[Path, dict]:
    """Copy the three files into `work`, write the manifest, sync, then `place()` names the folder
    (under the writer's lock). Returns (the backup folder, its manifest)."""
    import duckdb

    from .db import writer_lock
    from .keys import KeyError_, key_path, read_key

    if not work.is_dir():
        work.mkdir(mode=0o700)
    try:
        with writer_lock(db, wait=wait):  # no load swaps the file while it is copied
            shutil.copyfile(db, work / db.name)
            try:
                info = describe(work / db.name)
            except duckdb.Error as e:
                raise BackupError(f"数据仓库 {db} 无法打开 ({e}); 备份未进行") from None
            try:
                read_key(db, info["key_fingerprint"])
            except KeyError_ as e:
                raise BackupError(f"{e}; 没有它的备份无法用于后续导入, 备份未进行") from None
            shutil.copyfile(key_path(db), work / key_path(db).name)
            store = access_store_path(db)
            if store.exists():
                with file_errors("无法复制账号库", store):
                    _sqlite_into(store, work / store.name)
            for f in work.iterdir():
                os.chmod(f, 0o600)
                _fsync(f)
            manifest = {
                "format": FORMAT,
                "product": "minqing",
                "product_version": _product_version(),
                "schema_version": info["schema_version"],
                "created_at": dt.datetime.now().astimezone().replace(microsecond=0).isoformat(),
                "source": str(db),
                "warehouse": db.name,
                "district_code": info["district_code"],
                "district_name": info["district_name"],
                "key_fingerprint": info["key_fingerprint"],
                "files": {f.name: {"bytes": f.stat().st_size, "sha256": sha256(f)} for f in sorted(work.iterdir())},
                "tables": info["tables"],
                "access_tables": _store_counts(work / store.name) if (work / store.name).exists() else {},
            }
            _write_synced(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
            _fsync(work)
            out = place()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out, manifest


def _rename(work: Path, out: Path) -> Path:
    os.rename(work, out)
    os.chmod(out, 0o700)
    _fsync(out.parent)
    return out


def _move_up(work: Path, out: Path) -> Path:
    """The files of `work` (inside `out`) into `out`, the manifest last: a folder without one is no backup."""
    for f in sorted(work.iterdir(), key=lambda f: f.name == MANIFEST):
        os.rename(f, out / f.name)
    work.rmdir()
    os.chmod(out, 0o700)
    _fsync(out)
    return out


def _remove_stale_partials(folder: Path) -> None:
    """`.partial` folders left in `folder` by a backup that was killed (its process no longer exists)."""
    from .db import remove_orphans

    remove_orphans(folder.glob(".*.partial"))


def restore(folder: str | os.PathLike, db: str | os.PathLike, *, wait: float = WAIT_SECONDS,
            access_schema: int | None = None) -> tuple[dict, Path | None]:
    """Put the backup in `folder` back as the warehouse `db` (its key and accounts store beside it),
    after `verify`. Returns (its manifest, the folder keeping what was replaced, or None).

    Under the writer's lock: the files are copied beside their destinations and checked against the
    manifest again (the key too: it is taken from the checked bytes); the current warehouse, key and
    store are copied to `<db>.before-restore-<stamp>/`; the warehouse and its key are swapped as a pair
    (etl.keys.install_pair) and the store is written into the live file with SQLite's backup API (so
    a dashboard holding it open keeps a consistent view)."""
    from .db import _remove, _remove_stale_copies, writer_lock
    from .keys import install_pair

    folder, db = Path(folder), Path(db).resolve()
    manifest = verify(folder, access_schema=access_schema)
    name = manifest["warehouse"]
    store_src = folder / (name + ".access.sqlite")
    has_store = store_src.name in manifest["files"]
    store = access_store_path(db)
    tmp_db = db.with_name(f".{db.name}.{os.getpid()}.restore")
    tmp_store = store.with_name(f".{store.name}.{os.getpid()}.restore")
    saved = None
    try:
        with file_errors("恢复时读写文件出错", db):
            db.parent.mkdir(parents=True, exist_ok=True)
            with writer_lock(db, wait=wait):
                _remove_stale_copies(db)
                _copy_synced(folder / name, tmp_db)
                if sha256(tmp_db) != manifest["files"][name]["sha256"]:
                    raise BackupError(f"复制 {folder / name} 到 {tmp_db} 后校验值不符 (备份在核对后被改动或磁盘故障); 原数据仓库未改动")
                key = check_key((folder / (name + ".key")).read_bytes(), manifest, folder / (name + ".key"))
                if has_store:
                    _copy_synced(store_src, tmp_store)
                    if sha256(tmp_store) != manifest["files"][store_src.name]["sha256"]:
                        raise BackupError(f"复制 {store_src} 到 {tmp_store} 后校验值不符; 原数据仓库未改动")
                saved = _keep_current(db, store)
                install_pair(db, tmp_db, key)
                _remove(Path(str(db) + ".wal"))
                if has_store:
                    _sqlite_into(tmp_store, store)
    except BackupError as e:
        if saved is not None:
            raise BackupError(f"{e}; 恢复前的文件已保存在 {saved}") from None
        raise
    finally:
        for t in (tmp_db, tmp_store):
            with contextlib.suppress(FileNotFoundError):
                t.unlink()
    return manifest, saved


def _keep_current(db: Path, store: Path) -> Path | None:
    """Copies of the warehouse, its WAL, key and store about to be replaced, in a new private folder
    `<db>.before-restore-<stamp>` beside them (None when there is none of them)."""
    from .keys import key_path

    present = [p for p in (db, Path(str(db) + ".wal"), key_path(db)) if p.exists()]
    if not present and not store.exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest, n = db.with_name(f"{db.name}.before-restore-{stamp}"), 1
    while True:
        try:
            dest.mkdir(mode=0o700)
            break
        except FileExistsError:
            n += 1
            dest = db.with_name(f"{db.name}.before-restore-{stamp}-{n}")
    os.chmod(dest, 0o700)
    for p in present:
        _copy_synced(p, dest / p.name)
    if store.exists():
        _sqlite_into(store, dest / store.name)
    _fsync(dest)
    return dest


# ---------------------------------------------------------------------------- helpers

def _sqlite_into(src: Path, dst: Path) -> None:
    """The database `src` written into `dst` with SQLite's backup API (a live file stays a valid
    database for those who have it open; they see the old or the new content, never a mix)."""
    if not dst.exists():
        os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst, timeout=30)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    os.chmod(dst, 0o600)
    _fsync(dst)


def _store_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sqlite_counts(con)
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
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    """`path` (a file or a folder: its entries) on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _product_version() -> str:
    from .migrations import product_version

    return product_version()
