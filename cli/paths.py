"""The warehouse a command works on, checked once for every command that needs one to exist."""

from __future__ import annotations

from pathlib import Path

import click


def existing_db(ctx: click.Context) -> Path:
    """The --db warehouse; a usage error saying how to create one when there is no such file."""
    db: Path = ctx.obj["db"]
    if not db.exists():
        raise click.UsageError(f"{db} 不存在; 请先创建: minqing --db {db} init --district 区县代码或名称, 或运行 minqing demo")
    return db
