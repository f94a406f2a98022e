"""The queries of 数据导入 (the loads and their rejected rows), for the roles that load data:
cached like every query (dashboard.data.query), on the one connection dashboard.data owns."""

from __future__ import annotations

import pandas as pd

from dashboard.data import query


@query(needs="load")
def load_history(con) -> pd.DataFrame:
    """Every load (load_batches), newest first."""
    return con.execute("SELECT * FROM load_batches ORDER BY batch_id DESC").df()


@query(needs="load")
def rejected_rows(con, batch_id: int) -> pd.DataFrame:
    """The rejected rows of one load, to fix and reload (reports.rejected.rejected_frame)."""
    from reports.rejected import rejected_frame

    return rejected_frame(con, batch_id)
