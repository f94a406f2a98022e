"""抓苗头: early warnings from the warehouse's own cases (surges, groups of near-duplicate
demands, level-skipping, likely-the-same-matter) and category suggestions for unmapped cases.

`current_alerts(con, scope)` is the one entry point for pages, the CLI and the digest."""

from .ranked import KIND_LABELS, Alert, current_alerts, cut

__all__ = ["Alert", "KIND_LABELS", "current_alerts", "cut"]
