"""The dashboard's speed on the demo: server time of a filter change and bytes a page sends.

    python -m bench.dashboard_demo [--db bench/data/demo.duckdb] [--repeat 5] [--no-browser]

Server time: each page runs once in Streamlit's AppTest (what a first visit costs), then the
sidebar's 问题类别 filter is set to each category in turn and the rerun is timed: every
rerun is a filter value the page has not seen, so nothing comes from the query cache. It is
the script's whole run on the server (queries, maps, charts), without the browser's drawing;
the scripts are compiled once per process, as on the server (see _one_script_cache).
Bytes: the page opened in headless Chromium (Debian's chromium) on a local server, counting
what the server sends over Streamlit's websocket (data, charts and the map), not the static
JavaScript the browser caches. Writes bench/dashboard_demo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dashboard.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(ROOT / "bench" / "data" / "demo.duckdb"))
    ap.add_argument("--repeat", type=int, default=5, help="filter changes timed per page")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    db = Path(args.db)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(Path(sys.executable).parent / "minqing"), "--db", str(db), "demo"], check=True)
    os.environ["MINQING_DB"] = str(db)
    out = {"db": str(db), "server_ms": {}, "ws_bytes": {}}
    for page in PAGES:
        first, changes = filter_change_ms(page.file, args.repeat)
        out["server_ms"][page.name] = {"first_visit": round(first), "filter_change_median": round(statistics.median(changes)),
                                       "filter_change_max": round(max(changes))}
        print(page.name, out["server_ms"][page.name], flush=True)
    if not args.no_browser:
        out["ws_bytes"] = page_bytes(db)
        print(out["ws_bytes"])
    (ROOT / "bench" / "dashboard_demo.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


def _one_script_cache() -> None:
    """Give every AppTest run the same compiled scripts, as the server's Runtime does (one
    ScriptCache per process): AppTest compiles the app and the page again on every run, which
    the server never does on a rerun (about 25 ms for a small page, 100 ms for 区域档案)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def filter_change_ms(page: str, repeat: int) -> tuple[float, list[float]]:
    from streamlit.testing.v1 import AppTest

    from etl import vocab

    _one_script_cache()

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600)
    at.switch_page(page)
    t = time.perf_counter()
    at.run()
    first = (time.perf_counter() - t) * 1000
    times = []
    for term in vocab.terms("category")[:repeat]:
        at.multiselect(key="category").set_value([term])
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].value}")
    return first, times


def page_bytes(db: Path) -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import open_page, start_app

    out = {}
    with start_app(db) as url:
        for page in PAGES:
            r = open_page(f"{url}/{page.url_path}", Path("/tmp") / f"bench_{page.name}.png", timeout=180,
                          expect_map=page.has_map)
            out[page.name] = r.ws_bytes
    return out


if __name__ == "__main__":
    main()
