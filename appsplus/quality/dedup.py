"""Exact and near-duplicate statements among kept problems: MinHash LSH candidates, exact Jaccard.

    dedup = Deduplicator(threshold=0.8)
    dedup.add("apps/train/0001", "train", question)        # every kept record
    for dup in dedup.duplicates(): ...                      # Duplicate(problem_id, kept_id, ...)

Statements become word 5-gram shingles (`text.words`); datasketch's MinHash LSH proposes
candidate pairs and the exact Jaccard of the shingle sets decides (>= threshold; identical
word sequences are exact duplicates). Pairs join into clusters; each cluster keeps one
problem: a test-split one if there is one (test membership stays stable), else the first by
problem id; every other member is a duplicate naming the kept id. The result depends only
on the set of problems added, not on their order.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from appsplus.quality.text import jaccard, ngrams, words
from appsplus.record import natural_key

SHINGLE = 5
NUM_PERM = 128


class Duplicate(BaseModel):
    """A problem rejected as a duplicate of `kept_id`."""

    model_config = ConfigDict(extra="forbid")

    problem_id: str
    split: str
    kept_id: str
    kept_split: str
    similarity: float
    exact: bool

    def detail(self) -> str:
        kind = "exact" if self.exact else f"near-duplicate (Jaccard {self.similarity:.2f})"
        return f"{kind} statement of {self.kept_id} ({self.kept_split} split), which is kept"


class Deduplicator:
    """Collects (id, split, statement) of kept problems; `duplicates()` decides at the end."""

    def __init__(self, threshold: float = 0.8) -> None:
        self.threshold = threshold
        self._items: dict[str, tuple[str, set[int], str]] = {}  # id -> (split, shingles, exact)

    def add(self, problem_id: str, split: str, statement: str) -> None:
        tokens = words(statement)
        exact = hashlib.sha256(" ".join(tokens).encode()).hexdigest()
        self._items[problem_id] = (split, ngrams(tokens, SHINGLE), exact)

    def discard(self, problem_id: str) -> None:
        self._items.pop(problem_id, None)

    def _pairs(self) -> list[tuple[str, str, float, bool]]:
        from datasketch import MinHash, MinHashLSH

        ids = sorted(self._items, key=natural_key)
        pairs: dict[tuple[str, str], tuple[float, bool]] = {}
        by_exact: dict[str, str] = {}
        for pid in ids:
            exact = self._items[pid][2]
            if exact in by_exact:
                pairs[(by_exact[exact], pid)] = (1.0, True)
            else:
                by_exact[exact] = pid
        if self.threshold < 1.0:
            lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
            for pid in by_exact.values():
                mh = MinHash(num_perm=NUM_PERM, seed=1)
                mh.update_batch([h.to_bytes(8, "big") for h in sorted(self._items[pid][1])])
                for other in sorted(lsh.query(mh), key=natural_key):
                    sim = jaccard(self._items[pid][1], self._items[other][1])
                    if sim >= self.threshold:
                        pairs[(other, pid)] = (sim, False)
                lsh.insert(pid, mh)
        return [(a, b, s, e) for (a, b), (s, e) in sorted(pairs.items())]

    def duplicates(self) -> list[Duplicate]:
        """Every problem to reject, sorted by problem id (see the module docstring)."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        best: dict[tuple[str, str], tuple[float, bool]] = {}
        for a, b, sim, exact in self._pairs():
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb, key=natural_key)] = min(ra, rb, key=natural_key)
            best[(a, b)] = best[(b, a)] = (sim, exact)
        clusters: dict[str, list[str]] = {}
        for pid in parent:
            clusters.setdefault(find(pid), []).append(pid)
        out = []
        for members in clusters.values():
            members.sort(key=lambda p: (self._items[p][0] != "test", natural_key(p)))
            keep = members[0]
            for pid in members[1:]:
                sim, exact = best.get((pid, keep), (0.0, False))
                if (pid, keep) not in best:  # joined through a chain: measure directly
                    sim = jaccard(self._items[pid][1], self._items[keep][1])
                out.append(
                    Duplicate(
                        problem_id=pid,
                        split=self._items[pid][0],
                        kept_id=keep,
                        kept_split=self._items[keep][0],
                        similarity=round(sim, 4),
                        exact=exact,
                    )
                )
        return sorted(out, key=lambda d: natural_key(d.problem_id))
