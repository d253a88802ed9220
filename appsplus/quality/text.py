"""Statement and code text -> word lists and hashed n-grams, the unit of dedup and decontamination."""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"[a-z0-9]+")
_CODE_TOKEN = re.compile(r"\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric runs: punctuation, LaTeX markup and whitespace do not count."""
    return _WORD.findall(text.lower())


def code_tokens(code: str) -> list[str]:
    """Identifiers, numbers and single punctuation characters of a program (comments included)."""
    return _CODE_TOKEN.findall(code)


def ngrams(tokens: list[str], n: int) -> set[int]:
    """The distinct n-grams of `tokens` as 64-bit hashes (a text shorter than n: itself, once)."""
    if not tokens:
        return set()
    if len(tokens) < n:
        return {_hash(tokens)}
    return {_hash(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _hash(tokens: list[str]) -> int:
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def jaccard(a: set[int], b: set[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
