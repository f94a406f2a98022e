"""Canonical fields of the ledgers and how a user's headers are matched to them.

A header in a user's file is matched to a canonical field by its normalised
spelling (spaces, full-width brackets and marks like '*' ignored). Fields marked
`required` must be present as a column; a file without one fails before loading.
Which fields each kind of ledger holds is declared in etl/kinds.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # canonical Chinese header, used by templates and messages
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""  # may name a setting as {setting_name}: the template shows its current value
    personal: bool = False  # masked wherever the raw row is kept
    type: Literal["text", "number", "date", "flag", "coordinate"] = "text"  # what a cell holds (templates say how to write it)
    vocab: str | None = None  # the vocabulary (etl/vocab.toml) listing the accepted values


def normalise_header(h: object) -> str:
    """'所属村（社区）*' -> '所属村(社区)'; case and inner spaces ignored."""
    s = str(h if h is not None else "").strip().replace("\ufeff", "")
    s = s.replace("（", "(").replace("）", ")").replace("：", ":")
    s = re.sub(r"[\s*＊:]", "", s)
    return s.lower()


def match_headers(fields: tuple[Field, ...], headers: list[str], overrides: dict[str, str] | None = None) -> dict[str, int]:
    """Canonical field -> column index. `overrides` (header -> field, from --mapping) come
    first; otherwise the first column matching a field's name, label or alias wins."""
    out: dict[str, int] = {}
    forced = {normalise_header(h): f for h, f in (overrides or {}).items()}
    for i, h in enumerate(headers):
        name = forced.get(normalise_header(h))
        if name and name not in out:
            out[name] = i
    wanted: dict[str, str] = {}
    for f in fields:
        for spelling in (f.name, f.label, *f.aliases):
            wanted.setdefault(normalise_header(spelling), f.name)
    taken = set(out.values())
    for i, h in enumerate(headers):
        name = wanted.get(normalise_header(h))
        if name and name not in out and i not in taken:
            out[name] = i
    return out
