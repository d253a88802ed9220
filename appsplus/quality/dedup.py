"""Exact and near-duplicate statements among kept problems: MinHash LSH candidates, exact Jaccard.

    dedup = Deduplicator(threshold=0.8)
    dedup.add("apps/train/0001", "train", question)        # every kept record
    for dup in dedup.duplicates(): ...                      # Duplicate(problem_id, kept_id, ...)

Statements become word 5-gram shingles (`text.words`); datasketch's MinHash LSH proposes
candidate pairs and the exact Jaccard of the shingle sets decides (>= threshold; identical
word sequences are exact duplicates). Across sources (a mixed build), the same problem
URL is a duplicate too (Codeforces' /contest/C/problem/I and /problemset/problem/C/I are
one problem), whatever the wording: TACO and CodeContests format one Codeforces statement
differently. Pairs join into clusters; each cluster keeps one problem, by this rule:

1. a test-split problem (no problem of any source's test split lands in train);
2. a kept problem over a `shadow` (a test-split problem the build rejected: it still keeps
   its train duplicates out, but is never itself reported);
3. the lower `rank` (the source listed first in a mixed build: the user states the order
   of preference, e.g. APPS before TACO keeps the APPS id of a TACO row copied from APPS);
4. the first by problem id.

Every other member is a duplicate naming the kept id. The result depends only on the set
of problems added (and their ranks), not on their order.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict

from appsplus.quality.text import jaccard, ngrams, words
from appsplus.record import natural_key

SHINGLE = 5
NUM_PERM = 128
_CODEFORCES = re.compile(
    r"^codeforces\.com/(?:problemset/problem/(\d+)/(\w+)|contest/(\d+)/problem/(\w+))$"
)


def url_key(url: str) -> str:
    """A problem URL without scheme, 'www.', query and trailing '/', lower case; a Codeforces
    problem as 'codeforces:CONTEST/INDEX' (either of its two URLs); '' for no URL."""
    text = url.strip().lower().split("?", 1)[0].split("#", 1)[0]
    text = re.sub(r"^[a-z]+://", "", text).removeprefix("www.").rstrip("/")
    found = _CODEFORCES.match(text)
    if found:
        contest, index = found.group(1) or found.group(3), found.group(2) or found.group(4)
        return f"codeforces:{contest}/{index}"
    return text if "/" in text else ""


class Duplicate(BaseModel):
    """A problem rejected as a duplicate of `kept_id`."""

    model_config = ConfigDict(extra="forbid")

    problem_id: str
    split: str
    kept_id: str
    kept_split: str
    similarity: float
    exact: bool
    same_url: bool = False
    kept_rejected: bool = False  # the kept id is a shadow: a test-split problem rejected itself

    def detail(self) -> str:
        if self.same_url and not self.exact and self.similarity < 0.8:
            kind = f"same problem URL (statement Jaccard {self.similarity:.2f}) as"
        else:
            kind = (
                "exact statement of"
                if self.exact
                else (f"near-duplicate (Jaccard {self.similarity:.2f}) statement of")
            )
        if self.kept_rejected:
            return (
                f"{kind} {self.kept_id} ({self.kept_split} split; rejected itself, but a "
                "test-split problem keeps its duplicates out of train)"
            )
        return f"{kind} {self.kept_id} ({self.kept_split} split), which is kept"


class Deduplicator:
    """Collects (id, split, statement) of kept problems; `duplicates()` decides at the end."""

    def __init__(self, threshold: float = 0.8) -> None:
        self.threshold = threshold
        self._items: dict[str, tuple[str, set[int], str]] = {}  # id -> (split, shingles, exact)
        self._rank: dict[str, int] = {}  # id -> rank of its source (absent: 0)
        self._url: dict[str, str] = {}  # id -> url_key, where there is one
        self._shadows: set[str] = set()
        self._same_url: set[tuple[str, str]] = set()  # pairs found by URL alone

    def add(
        self,
        problem_id: str,
        split: str,
        statement: str,
        *,
        rank: int = 0,
        url: str = "",
        shadow: bool = False,
    ) -> None:
        """A problem; `rank`: its source's position (lower wins); `url`: matched across
        ranks only; `shadow`: a rejected test-split problem (see the module docstring)."""
        tokens = words(statement)
        exact = hashlib.sha256(" ".join(tokens).encode()).hexdigest()
        self._items[problem_id] = (split, ngrams(tokens, SHINGLE), exact)
        if rank:
            self._rank[problem_id] = rank
        key = url_key(url)
        if key:
            self._url[problem_id] = key
        if shadow:
            self._shadows.add(problem_id)

    def discard(self, problem_id: str) -> None:
        self._items.pop(problem_id, None)
        self._shadows.discard(problem_id)

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
        by_url: dict[str, list[str]] = {}
        for pid in ids:
            if pid in self._url:
                by_url.setdefault(self._url[pid], []).append(pid)
        for same in by_url.values():
            # each one of another source joins the group's first (test split, then rank):
            # problems of one source sharing a URL are not joined to each other through it
            anchor = min(same, key=lambda p: (self._items[p][0] != "test", self._rank.get(p, 0), p))
            for b in same:
                if self._rank.get(b, 0) == self._rank.get(anchor, 0):
                    continue
                a, b = min(anchor, b, key=natural_key), max(anchor, b, key=natural_key)
                if (a, b) not in pairs:
                    self._same_url.update({(a, b), (b, a)})
                    pairs[(a, b)] = (jaccard(self._items[a][1], self._items[b][1]), False)
        return [(a, b, s, e) for (a, b), (s, e) in sorted(pairs.items())]

    def duplicates(self) -> list[Duplicate]:
        """Every problem to reject, sorted by problem id (see the module docstring)."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        best: dict[tuple[str, str], tuple[float, bool]] = {}
        self._same_url = set()
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
            members.sort(
                key=lambda p: (
                    self._items[p][0] != "test",
                    p in self._shadows,
                    self._rank.get(p, 0),
                    natural_key(p),
                )
            )
            keep = members[0]
            for pid in members[1:]:
                if pid in self._shadows:  # rejected already: nothing to report
                    continue
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
                        same_url=(pid, keep) in self._same_url
                        or self._url.get(pid, "") == self._url.get(keep, None),
                        kept_rejected=keep in self._shadows,
                    )
                )
        return sorted(out, key=lambda d: natural_key(d.problem_id))
