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

DOMAINS = ("category", "channel", "status")
DOMAIN_LABELS = {"category": "问题类别", "channel": "诉求来源", "status": "办理状态"}


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

    def where(self, alias: str = "c") -> tuple[str, list]:
        """SQL condition on a `cases` table aliased `alias`, and its positional parameters."""
        parts, params = ["true"], []
        if self.start:
            parts.append(f"{alias}.received_at::DATE >= ?")
            params.append(self.start)
        if self.end:
            parts.append(f"{alias}.received_at::DATE <= ?")
            params.append(self.end)
        if self.area_prefix:
            parts.append(f"starts_with({alias}.area_code, ?)")
            params.append(self.area_prefix)
        for col in DOMAINS:
            terms = getattr(self, col)
            if terms:
                parts.append(f"list_contains(?::VARCHAR[], {alias}.{col})")
                params.append(list(terms))
        return " AND ".join(parts), params

    def metric_kwargs(self) -> dict:
        """Keyword arguments of analysis.metrics' functions (the period is passed separately)."""
        return {"area_prefix": self.area_prefix, **{d: (list(getattr(self, d)) or None) for d in DOMAINS}}

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


def canonical(domain: str, value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Canonical terms of `value` (a term, a synonym, or several); () for None."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    syn = vocab.synonym_map(domain)
    out = []
    for v in values:
        t = syn.get(vocab._norm(v))
        if t is None:
            raise ValueError(f"unknown {domain} {v!r}; expected one of {vocab.terms(domain)}")
        if t not in out:
            out.append(t)
    return tuple(out)
