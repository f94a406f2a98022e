"""DuckDB connections with the spatial extension loaded from its PyPI package.

The extension never comes from the network: `duckdb-extension-spatial` ships the
binary for exactly one duckdb version, which we install from its file path.
Writes go to a copy of the warehouse that is swapped in atomically, so a
dashboard reading the old file never sees a half-written load (DuckDB allows a
single writer per file).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = Path(__file__).resolve().parent / "sql"


def connect(path: str | os.PathLike | None = None, read_only: bool = False, *,
            progress_bar: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a warehouse (or an in-memory database when `path` is None) with spatial loaded.

    DuckDB shares one database instance per file within a process: after a write has
    been swapped in, close the old connections before connecting again to see it.
    DuckDB's progress bar is off unless `progress_bar` asks for it: it writes to stdout,
    where it would corrupt `--json` output and the CLI's messages (take cursors with `cursor`).
    """
    config = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if not os.environ.get("HOME"):  # services started without HOME: DuckDB needs one to install into
        config["home_directory"] = tempfile.gettempdir()
    if path is None:
        con = duckdb.connect(":memory:", config=config)
    else:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    load_spatial(con)
    if path is not None:
        from .migrations import check_readable

        try:  # a warehouse written by a newer release is neither read nor written
            check_readable(con, path)
        except Exception:
            con.close()
            raise
    return _progress_bar(con, progress_bar)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` (one per thread) without DuckDB's progress bar on stdout: cursors do
    not inherit their connection's settings."""
    return _progress_bar(con.cursor(), False)


def _progress_bar(con: duckdb.DuckDBPyConnection, on: bool) -> duckdb.DuckDBPyConnection:
    # `enable_progress_bar = false` alone does not stop the Python client from printing it
    con.execute(f"SET enable_progress_bar_print = {'true' if on else 'false'}")
    return con


def load_spatial(con: duckdb.DuckDBPyConnection) -> None:
    """Install the spatial extension from the file the PyPI package ships, then load it (quietly:
    on a busy machine the install takes seconds, and DuckDB would print its progress bar)."""
    _progress_bar(con, False)
    con.install_extension(str(spatial_extension_path()))
    con.load_extension("spatial")


def spatial_extension_path() -> Path:
    """Path of `spatial.duckdb_extension` inside `duckdb-extension-spatial` for this duckdb."""
    import duckdb_extension_spatial

    root = Path(duckdb_extension_spatial.__file__).resolve().parent / "extensions"
    wanted = root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not wanted.exists():
        found = sorted(p.parent.name for p in root.glob("*/spatial.duckdb_extension"))
        raise RuntimeError(
            f"duckdb {duckdb.__version__} needs duckdb-extension-spatial=={duckdb.__version__}; "
            f"the installed package ships {found or 'nothing'}"
        )
    return wanted


@contextlib.contextmanager
def writing(path: str | os.PathLike, *, fresh: bool = False,
            on_swap: Callable[[Path], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a writable copy of the warehouse at `path`; swap it in only if the block succeeds.

    With `fresh=True` the copy starts empty (`init` and `demo` go through etl.keys.new_warehouse).
    On any exception, or if the process is killed, the original file is untouched. A symlinked
    `path` is resolved first: the lock, the copy and the swap are those of the real file, so
    writers through different names exclude each other and the link stays a link. The copy
    is made in a folder only its owner can open and swapped in readable by its owner only
    (mode 600). `on_swap(real_path)` runs right after the swap, still under the lock.
    A copy of a warehouse with an older schema is first upgraded (etl.migrations.migrate), so the
    first write after an upgrade of the product swaps in the upgraded warehouse with its change.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path):  # two loads at once would each copy the old file and the last swap would win
        _remove_stale_copies(path)
        # a private folder (mode 700) for the copy, its WAL and DuckDB's spill folder
        work = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        _remove(work)
        work.mkdir(mode=0o700)
        tmp = work / path.name
        try:
            if not fresh and path.exists():
                shutil.copyfile(path, tmp)
            con = connect(tmp)
            try:
                _limit_memory(con)
                if not fresh:
                    from .migrations import migrate

                    migrate(con, where=path)
                yield con
                con.execute("CHECKPOINT")
            except BaseException:
                with contextlib.suppress(Exception):
                    con.close()
                raise
            con.close()
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
            if on_swap is not None:
                on_swap(path)
            _remove(Path(str(path) + ".wal"))
        finally:
            _remove(work)


def _limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Cap DuckDB's memory while writing (setting `write_memory_limit`); beyond it DuckDB spills
    to a temporary folder beside the copy (removed when the connection closes)."""
    from . import settings

    limit = str(settings.get("write_memory_limit")).strip()
    if not limit:
        return
    try:
        con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
    except duckdb.Error:
        raise settings.SettingError(
            f"设置 MINQING_WRITE_MEMORY_LIMIT={limit!r} 不是内存大小; 应如 2GB 或 1500MB, 留空则不限") from None


def run_sql_file(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    """Run `etl/sql/<name>.sql`; `$name` placeholders are bound from `params`."""
    sql = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    if params:
        con.execute(sql, params)
    else:
        con.execute(sql)


class Busy(RuntimeError):
    """Another process is writing this warehouse."""


@contextlib.contextmanager
def _exclusive(path: Path, wait: float = 0.0) -> Iterator[None]:
    """An advisory lock (`<warehouse>.lock`) held by one writer at a time; fails fast when taken,
    or after waiting up to `wait` seconds for it (backups and restores wait for a running load)."""
    import fcntl
    import time

    path = Path(path).resolve()  # the real file's lock, whichever name a writer uses
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    with contextlib.suppress(PermissionError):
        os.fchmod(fd, 0o600)  # a lock file left by an older version
    lock = os.fdopen(fd, "w")
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f"等待 {wait:g} 秒后仍未完成" if wait > 0 else "请等它完成后再试"
                    raise Busy(f"另一个进程正在写入 {path} (如正在导入数据); {waited}") from None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        yield
    finally:
        lock.close()  # closing releases the lock


writer_lock = _exclusive  # the writer's lock, for what must hold it without writing (etl.backup)


def _remove_stale_copies(path: Path) -> None:
    """Copies left by a writer or a restore (etl.backup) that was killed (its process no longer exists):
    `.<file>.<pid>.tmp`, `.<file>.<pid>.restore` and `.<file>.access.sqlite.<pid>.restore`."""
    remove_orphans([*path.parent.glob(f".{path.name}.*.tmp"), *path.parent.glob(f".{path.name}.*.restore")])


def remove_orphans(paths) -> None:
    """Remove each of `paths` (`<name>.<pid>.<suffix>`, a file or a folder) whose process no
    longer exists: what a killed writer, restore or backup left."""
    for p in paths:
        pid = p.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(p)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(p: Path) -> None:
    """A temporary copy: its private folder, or (left by an older version) the file, its WAL and spill folder."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
        return
    for f in (p, Path(str(p) + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
    shutil.rmtree(Path(str(p) + ".tmp"), ignore_errors=True)  # DuckDB's spill folder
