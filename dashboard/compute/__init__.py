"""What the pages show, shaped from what dashboard.data returns: plain functions over DataFrames
and dicts, one module per page (shared ones where two pages show the same thing). No streamlit
and no queries here, so every function is tested without AppTest; the pages only lay out."""
