"""The terms offices write for a case's channel, category, status and satisfaction, and what
they become in the warehouse. No case is dropped for a word the vocabulary does not know.

A written term is resolved, in this order, to
- user:        the warehouse's own mapping (table vocab_map, `minqing vocab map`);
- exact / synonym: a term or synonym of etl/vocab.toml (normalised: case and spaces ignored);
- containment: (channel and category only) the written term contains the spelling of exactly
  one vocabulary entry, or is contained in spellings of exactly one (来访接待 -> 接访日 through
  its synonym 来访); two entries -> ambiguous -> no match. Statuses and satisfaction are not
  matched by containment: 未办结 contains 办结, 不太满意 contains 满意;
- unmapped:    kept as written, a channel or category of its own; an unmapped status counts as
  open (etl/sql/views.sql defines closed statuses positively), an unmapped satisfaction as
  rated but not satisfied.

Cases keep the written term (channel_raw, category_raw, status_raw, satisfaction_raw), so a
mapping is applied to the stored cases at once, without reloading a file (`map_term`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from . import vocab
from .vocab import _norm

DOMAINS = ("channel", "category", "status", "satisfaction")
DOMAIN_LABELS = {"channel": "诉求来源", "category": "问题类别", "status": "办理状态", "satisfaction": "满意度"}
HOW_LABELS = {"exact": "词表用词", "synonym": "同义词", "containment": "包含匹配", "user": "本库映射", "unmapped": "未映射(按原词保留)"}
CONTAINMENT_DOMAINS = ("channel", "category")
_MIN_CONTAINED = 2  # a written term contained in a spelling must have at least this many characters


def terms_in_use(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The written terms of the stored cases: one row per (domain, term as written) with
    mapped_to (the term the cases are counted under), how (exact, synonym, containment, user,
    unmapped) and count (cases), ordered by domain, vocabulary order, then count."""
    user = user_map(con)
    parts = []
    for d in DOMAINS:
        parts.append(f"SELECT '{d}' AS domain, {d}_raw AS term, {d} AS mapped_to, count(*) AS count "
                     f"FROM cases WHERE {d}_raw IS NOT NULL GROUP BY ALL")
    df = con.execute(" UNION ALL ".join(parts)).df()
    df["how"] = [resolve(d, t, user)[1] for d, t in zip(df["domain"], df["term"])]
    order = {(d, t): i for d in DOMAINS for i, t in enumerate(vocab.terms(d))}
    df["_d"] = df["domain"].map(DOMAINS.index)
    df["_v"] = [order.get((d, m), len(order)) for d, m in zip(df["domain"], df["mapped_to"])]
    df = df.sort_values(["_d", "_v", "count", "term"], ascending=[True, True, False, True])
    return df[["domain", "term", "mapped_to", "how", "count"]].reset_index(drop=True)


def map_term_in(db, domain: str | None, term: str, target: str) -> tuple[str, str, int]:
    """`map_term` on the warehouse file `db`, in one atomic write under the writer lock (the CLI's
    `minqing vocab map` and the 数据导入 page both call this). Raises etl.db.Busy while another
    process writes, ValueError (Chinese) for a bad term or target."""
    from .db import writing

    with writing(db) as con:
        return map_term(con, domain, term, target)


def map_term(con: duckdb.DuckDBPyConnection, domain: str | None, term: str, target: str) -> tuple[str, str, int]:
    """Map the written `term` to the vocabulary term `target` (a term or one of its synonyms) in
    this warehouse (table vocab_map, kept across loads) and re-derive the stored cases at once:
    their column of the domain, then case_history and the views. `domain`: None infers it from
    the terms in use (ValueError when the term is in none or in several). Returns (domain,
    canonical target, cases changed). Errors are ValueError with a Chinese message. The caller
    owns the transaction and the writer lock (etl.db.writing)."""
    from .views import create_views

    term = (term or "").strip()
    domain = domain or _infer_domain(con, term)
    if domain not in DOMAINS:
        raise ValueError(f"未知的词表 {domain!r}; 可选: {', '.join(DOMAINS)}")
    canon = vocab.synonym_map(domain).get(_norm(target))
    if canon is None:
        raise ValueError(f"{target!r} 不是{DOMAIN_LABELS[domain]}的词表用词; 可选: {'、'.join(vocab.terms(domain))}")
    if not term:
        raise ValueError("要映射的词为空")
    for (old,) in con.execute("SELECT term FROM vocab_map WHERE domain = ?", [domain]).fetchall():
        if _norm(old) == _norm(term):
            con.execute("DELETE FROM vocab_map WHERE domain = ? AND term = ?", [domain, old])
    con.execute("INSERT INTO vocab_map VALUES (?, ?, ?, ?)", [domain, term, canon, dt.datetime.now().replace(microsecond=0)])
    changed = rederive(con)
    create_views(con)  # rebuilds case_history (same category) and refreshes the views
    return domain, canon, changed


def user_map(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """The warehouse's own mappings: (domain, normalised term) -> vocabulary term."""
    return {(d, _norm(t)): m for d, t, m in con.execute("SELECT domain, term, mapped_to FROM vocab_map").fetchall()}


def resolve(domain: str, written: str, user: dict[tuple[str, str], str] | None = None) -> tuple[str, str]:
    """(term the case is counted under, how) for a written term; see the module's docstring."""
    text = str(written).strip()
    key = _norm(text)
    if user and (domain, key) in user:
        return user[(domain, key)], "user"
    exact = vocab.synonym_map(domain).get(key)
    if exact is not None:
        return exact, "exact" if exact == text else "synonym"
    if domain in CONTAINMENT_DOMAINS:
        hit = _containment(domain, key)
        if hit is not None:
            return hit, "containment"
    return text, "unmapped"


def stage_resolution(con: duckdb.DuckDBPyConnection, fields: list[str]) -> None:
    """TEMP TABLE term_resolution(domain, raw, term, how) for every value of the vocabulary
    `fields` (channel, category, status, satisfaction) in raw_rows, the file being loaded."""
    values = []
    for f in fields:
        values += [(f, v) for (v,) in con.execute(
            f"SELECT DISTINCT {f} FROM raw_rows WHERE NOT is_blank({f})").fetchall()]
    _write_resolution(con, values)


def kept_fields(spec) -> list[str]:
    """The fields of a kind (etl.kinds.Kind) resolved here: those named after their vocabulary."""
    return [f.name for f in spec.fields if f.vocab in DOMAINS and f.name == f.vocab]


def load_report(con: duckdb.DuckDBPyConnection, fields: list[str]) -> list[dict]:
    """The terms of the file just loaded (`fields`: kept_fields of its kind) that the vocabulary
    did not know as written: those matched by containment and those kept unmapped, with their
    rows in the file."""
    if not fields:
        return []
    counts = " UNION ALL ".join(f"SELECT '{f}' AS domain, {f} AS raw FROM raw_rows" for f in fields)
    rows = con.execute(f"""
        SELECT r.domain, trim(r.raw) AS term, r.term AS mapped_to, r.how, count(*) AS count
        FROM ({counts}) c JOIN term_resolution r ON r.domain = c.domain AND r.raw = c.raw
        WHERE r.how IN ('containment', 'unmapped')
        GROUP BY ALL ORDER BY r.domain, count DESC, term""").fetchall()
    return [{"domain": d, "term": t, "mapped_to": m, "how": h, "count": n} for d, t, m, h, n in rows]


def rederive(con: duckdb.DuckDBPyConnection) -> int:
    """Re-apply the resolution to the stored cases from their written terms; returns the cases
    whose channel, category, status or satisfaction changed. Callers refresh the views."""
    values = []
    for d in DOMAINS:
        values += [(d, v) for (v,) in con.execute(f"SELECT DISTINCT {d}_raw FROM cases WHERE {d}_raw IS NOT NULL").fetchall()]
    _write_resolution(con, values)
    changed: set[str] = set()
    # a changed case's stored content fingerprint is stale: the next load's merge computes it again
    has_fp = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'cases' "
                         "AND schema_name = 'main' AND column_name = 'content_md5'").fetchone()[0]
    forget = ", content_md5 = NULL" if has_fp else ""
    for d in DOMAINS:
        cond = f"r.domain = '{d}' AND r.raw = cases.{d}_raw AND cases.{d} IS DISTINCT FROM r.term"
        changed |= {k for (k,) in con.execute(f"SELECT case_id FROM cases, term_resolution r WHERE {cond}").fetchall()}
        con.execute(f"UPDATE cases SET {d} = r.term{forget} FROM term_resolution r WHERE {cond}")
    return len(changed)


def _write_resolution(con: duckdb.DuckDBPyConnection, values: list[tuple[str, str]]) -> None:
    user = user_map(con)
    rows = [(d, v, *resolve(d, v, user)) for d, v in values]
    con.execute("CREATE OR REPLACE TEMP TABLE term_resolution (domain VARCHAR, raw VARCHAR, term VARCHAR, how VARCHAR)")
    if rows:
        con.executemany("INSERT INTO term_resolution VALUES (?, ?, ?, ?)", rows)


def _containment(domain: str, key: str) -> str | None:
    """The one vocabulary entry whose spelling the normalised written term contains or is
    contained in; None when none or several. English keys take no part."""
    keys = {_norm(t["key"]) for t in vocab.vocab(domain)}
    hits = {term for spelling, term in vocab.synonym_map(domain).items()
            if spelling not in keys and len(spelling) >= 2
            and (spelling in key or (len(key) >= _MIN_CONTAINED and key in spelling))}
    return hits.pop() if len(hits) == 1 else None


def _infer_domain(con: duckdb.DuckDBPyConnection, term: str) -> str:
    found = [d for d in DOMAINS if any(_norm(v) == _norm(term) for (v,) in con.execute(
        f"SELECT DISTINCT {d}_raw FROM cases WHERE {d}_raw IS NOT NULL").fetchall())]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"数据仓库的诉求中没有 {term!r}; 请用 --domain 指明词表 ({', '.join(DOMAINS)})")
    raise ValueError(f"{term!r} 同时出现在 {'、'.join(DOMAIN_LABELS[d] for d in found)} 中; "
                     f"请用 --domain 指明 ({', '.join(found)})")
