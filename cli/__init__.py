"""The `minqing` command line (cli.main); commands live in cli/warehouse.py and cli/analysis.py."""

from .main import main, run

__all__ = ["main", "run"]
