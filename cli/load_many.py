"""`minqing load KIND FILE... | FOLDER`: several files (or a folder's ledgers) in one transaction.

Each file is loaded as `minqing load KIND FILE` would load it (its own batch, rejected rows,
counts and audit entry), all of them in one copy of the warehouse swapped in once (etl.load.load_files).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path

import click

from etl.db import Busy
from etl.keys import KeyError_

_COUNTS = ("rows_read", "loaded", "updated", "duplicates", "rejected")


def load_many(db: Path, kind: str, args: tuple[str, ...], *, sheet: str | None, crs: str,
              mapping: dict[str, str] | None, as_of: dt.date | None, as_json: bool) -> None:
    from etl.load import STEPS, XLSX_SUFFIXES, LoadError, load_files
    from etl.readers import ReadError

    from .warehouse import audit_load, echo_result

    try:
        paths = _expand(args, quiet=as_json)
    except LoadError as e:
        raise click.UsageError(str(e)) from None
    if sheet and not any(p.suffix.lower() in XLSX_SUFFIXES for p in paths):
        raise click.BadParameter("--sheet 只适用于 .xlsx 文件, 而所给文件中没有 .xlsx 文件", param_hint="--sheet")
    try:
        bar = click.progressbar(length=len(STEPS) * len(paths), label=f"导入 {len(paths)} 个文件", file=sys.stderr,
                                item_show_func=lambda s: s)
        with contextlib.nullcontext() if as_json else bar:
            results = load_files(db, kind, paths, sheet=sheet, crs=crs, mapping=mapping, as_of=as_of,
                                 progress=None if as_json else (lambda p, s: bar.update(1, f"{p.name} {s}")))
    except (LoadError, ReadError, KeyError_, Busy) as e:
        raise click.UsageError(str(e)) from None
    for r in results:
        audit_load(db, r)
    total = {c: sum(getattr(r, c) for r in results) for c in _COUNTS}
    if as_json:
        click.echo(json.dumps({"files": [r.as_dict() for r in results], "total": {"files": len(results), **total}},
                              ensure_ascii=False))
        return
    for p, r in zip(paths, results):
        echo_result(db, str(p), r)
    click.echo(f"合计 {len(results)} 个文件: 读入 {total['rows_read']} 行 — 新增 {total['loaded']}, "
               f"更新 {total['updated']}, 重复 {total['duplicates']}, 拒收 {total['rejected']} (一次导入, 全部生效)")


def _expand(args: tuple[str, ...], *, quiet: bool) -> list[Path]:
    """The files to load, in order: each FILE as given, a folder's ledgers by name (said which)."""
    from etl.load import folder_files

    paths: list[Path] = []
    for a in args:
        p = Path(a)
        if not p.is_dir():
            paths.append(p)
            continue
        found = folder_files(p)
        if not quiet:
            click.echo(f"文件夹 {p}: 按文件名顺序导入 {len(found)} 个文件: {', '.join(f.name for f in found)}")
        paths.extend(found)
    unique, seen = [], set()
    for p in paths:  # a file named twice (or a folder and a file in it) is loaded once
        real = p.resolve()
        if real in seen:
            if not quiet:
                click.echo(f"{p} 已在本次导入之列, 不再重复导入", err=True)
            continue
        seen.add(real)
        unique.append(p)
    return unique
