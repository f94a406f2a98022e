"""The `minqing` command line: the group, its options, and every command registered here once."""

from __future__ import annotations

import os
from pathlib import Path

import click

from etl import settings
from etl.db import REPO_ROOT
from etl.migrations import SchemaError

from . import access, alerts, analysis, fieldwork, ops, report, vocab, warehouse


def _default_db() -> str:
    env = os.environ.get("MINQING_DB")
    if env:
        return env
    return str(REPO_ROOT / str(settings.get("db")))


class _Main(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (settings.SettingError, SchemaError) as e:  # a bad MINQING_* value, a warehouse of a newer release
            raise click.UsageError(str(e), ctx) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", type=click.Path(dir_okay=False), default=_default_db, show_default="$MINQING_DB 或 data/minqing.duckdb",
              help="数据仓库文件 (DuckDB)。")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """民情地图: 导入区县的群众工作台账并加以分析。"""
    ctx.obj = {"db": Path(db)}


for _command in (*warehouse.COMMANDS, *vocab.COMMANDS, *analysis.COMMANDS, *alerts.COMMANDS, *fieldwork.COMMANDS, *report.COMMANDS, *access.COMMANDS, *ops.COMMANDS):
    main.add_command(_command)


def run() -> None:  # pragma: no cover - console entry for python -m cli
    main(prog_name="minqing")
