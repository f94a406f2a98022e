"""Which cases count: one filter shared by the analyses, the dashboard and the exports.

A `CaseFilter` holds the period on the received date (both ends inclusive, either may be
open), an area (a district, town or village code, matched as a prefix of the case's area
code) and the terms of the three vocabularies (categories, channels, statuses). An empty
tuple means "all". Terms are canonical (etl/vocab.toml); `CaseFilter.of` accepts synonyms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from etl import vocab
from etl.codes import town_of, village_of
from etl.terms import DOMAIN_LABELS as TERM_LABELS

DOMAINS = ("category", "channel", "status")
DOMAIN_LABELS = {d: TERM_LABELS[d] for d in DOMAINS}  # the Chinese names live with the terms (etl/terms.py)


@dataclass(frozen=True)
class CaseFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    category: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    area_prefix: str = ""

    def __post_init__(self) -> None:
        for name in DOMAINS:  # a single term is accepted and kept as a one-term tuple
            v = getattr(self, name)
            if v is None:
                object.__setattr__(self, name, ())
            elif isinstance(v, str):
                object.__setattr__(self, name, (v,))
            else:
                object.__setattr__(self, name, tuple(v))
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"period start {self.start} is after its end {self.end}")

    @classmethod
    def of(cls, start: dt.date | None = None, end: dt.date | None = None, *, area_prefix: str = "",
           category: str | Iterable[str] | None = None, channel: str | Iterable[str] | None = None,
           status: str | Iterable[str] | None = None) -> CaseFilter:
        """A filter from user input: synonyms become canonical terms; an unknown term raises
        ValueError naming it and the terms expected."""
        return cls(start, end, canonical("category", category), canonical("channel", channel),
                   canonical("status", status), area_prefix or "")

    def where(self, alias: str = "") -> tuple[str, dict]:
        """The filter as an SQL condition and its named parameters ($flt_start, $flt_end,
        $flt_area, $flt_category, $flt_channel, $flt_status; only those the condition uses).

        This is the only place a filter becomes SQL. The condition reads only columns that
        the table `cases` and the view `case_facts` share (received_at, area_code, category,
        channel, status), so it applies to either; `alias` qualifies them ('c' for `cases c`)."""
        col = f"{alias}." if alias else ""
        parts, params = ["true"], {}
        if self.start is not None:
            parts.append(f"CAST({col}received_at AS DATE) >= $flt_start")
            params["flt_start"] = self.start
        if self.end is not None:
            parts.append(f"CAST({col}received_at AS DATE) <= $flt_end")
            params["flt_end"] = self.end
        if self.area_prefix:
            parts.append(f"starts_with({col}area_code, $flt_area)")
            params["flt_area"] = self.area_prefix
        for domain in DOMAINS:
            terms = getattr(self, domain)
            if terms:
                parts.append(f"list_contains($flt_{domain}::VARCHAR[], {col}{domain})")
                params[f"flt_{domain}"] = list(terms)
        return " AND ".join(parts), params

    def backlog(self) -> CaseFilter:
        """The same filter without its start: the open backlog at the period's end counts every
        case received up to the end, whenever it was received."""
        return replace(self, start=None)

    def without_area(self) -> CaseFilter:
        """The same filter over the whole warehouse (spatial statistics need every area)."""
        return replace(self, area_prefix="")

    def describe(self, area_name: str = "") -> str:
        """The filter in words (Chinese), as captions and export headers show it; `area_name` names
        `area_prefix` (e.g. '五里镇 · 新村'), the whole warehouse is 全区."""
        parts = []
        if self.start is not None or self.end is not None:
            parts.append(f"受理时段 {self.start or '最早'} 至 {self.end or '最近'}")
        parts.append(f"区域 {area_name or self.area_prefix or '全区'}")
        for d, label in DOMAIN_LABELS.items():
            if getattr(self, d):
                parts.append(f"{label} {'、'.join(getattr(self, d))}")
        return "; ".join(parts)

    @property
    def town(self) -> str | None:
        return town_of(self.area_prefix)

    @property
    def village(self) -> str | None:
        return village_of(self.area_prefix)


def terms_in_use(con, domain: str) -> list[str]:
    """The terms of a filter domain (category, channel, status): the vocabulary's, in its order,
    then those the warehouse's cases use besides (kept as written: etl/terms.py), by count."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown filter domain {domain!r}; expected one of {DOMAINS}")
    used = [t for (t,) in con.execute(
        f"SELECT {domain} FROM cases GROUP BY 1 ORDER BY count(*) DESC, 1").fetchall()]
    return terms_in_use_order(domain, used)


def terms_in_use_order(domain: str, used: Iterable[str]) -> list[str]:
    """The vocabulary's terms, then the other `used` ones in their order."""
    base = vocab.terms(domain)
    return base + [t for t in used if t not in base]


def canonical(domain: str, value: str | Iterable[str] | None, known: Iterable[str] = ()) -> tuple[str, ...]:
    """Canonical terms of `value` (a term, a synonym, or several); () for None. `known`: the
    terms the warehouse uses besides the vocabulary's (terms_in_use), accepted as written."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    syn = vocab.synonym_map(domain)
    own = {vocab._norm(k): k for k in known}
    out = []
    for v in values:
        t = syn.get(vocab._norm(v)) or own.get(vocab._norm(v))
        if t is None:
            raise ValueError(f"unknown {domain} {v!r}; expected one of {terms_in_use_order(domain, known)}")
        if t not in out:
            out.append(t)
    return tuple(out)
