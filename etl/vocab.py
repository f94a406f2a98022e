"""Controlled vocabularies (channels, categories, statuses, ...) read from vocab.toml."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

VOCAB_FILE = Path(__file__).resolve().parent / "vocab.toml"


@functools.lru_cache(maxsize=None)
def vocab(domain: str) -> tuple[dict, ...]:
    """All terms of one vocabulary, in file order."""
    data = tomllib.loads(VOCAB_FILE.read_text(encoding="utf-8"))
    if domain not in data:
        raise ValueError(f"unknown vocabulary {domain!r}; expected one of {sorted(data)}")
    return tuple(data[domain])


def terms(domain: str) -> list[str]:
    """Canonical Chinese terms of a vocabulary."""
    return [t["term"] for t in vocab(domain)]


def term(domain: str, key: str) -> str:
    """The canonical term for an English key, e.g. term('status', 'closed') == '办结'."""
    for t in vocab(domain):
        if t["key"] == key:
            return t["term"]
    raise ValueError(f"unknown {domain} key {key!r}; expected one of {[t['key'] for t in vocab(domain)]}")


def synonym_map(domain: str) -> dict[str, str]:
    """Every accepted spelling (term, key, synonyms; case- and space-insensitive) -> term."""
    out: dict[str, str] = {}
    for t in vocab(domain):
        for s in [t["term"], t["key"], *t.get("synonyms", [])]:
            out[_norm(s)] = t["term"]
    return out


def open_statuses() -> list[str]:
    return [t["term"] for t in vocab("status") if t["open"]]


def closed_statuses() -> list[str]:
    """Statuses of closed cases: a status not among them (one the vocabulary does not know) is open."""
    return [t["term"] for t in vocab("status") if not t["open"]]


def _norm(s: str) -> str:
    return "".join(str(s).split()).lower()
