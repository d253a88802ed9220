"""A synthetic APPS-format problem family for CPU-scale research, and its build source 'synthetic[:SPEC]'.

Stdlib only, deterministic.

    from appsplus.sources.synthetic import SyntheticSpec, generate
    problems = generate(SyntheticSpec(seed=0))        # SyntheticProblem list, train then test
    rows = [p.apps_row() for p in problems]           # codeparrot/apps rows
    appsplus build --source synthetic:0 --out synth   # the same rows, built and verified

Every problem is a piecewise integer function: a chain of `if x < t1 / elif x < t2 / ...
else` branches, each applying one operation (`x + c`, `x * c`, `c - x`, `x // c`, ...).
Statements say it in words, drawn from several phrasings per clause. Problems come in
two kinds (stdio: read and print; call: a function `NAME(x)` or `NAME(xs)`) and four
tiers of program length and branching:

====  ==========  ===========================================  =====================
tier  conditions  shape                                        canonical lines
====  ==========  ===========================================  =====================
1     1           one value                                    5 (stdio) / 5 (call)
2     2           one value                                    7 / 7
3     2           a loop over q values (stdio) / a list (call)  9 / 10
4     3           a loop over q values / a list                11 / 12
====  ==========  ===========================================  =====================

Held-out problems use *combinations* of branch operations that no training problem uses
(each operation alone appears in both splits): the test split is where a model must
compose what it learned. Which combinations are held out depends on the operations only
(a hash), never on the seed, so `generate` for any seed keeps the same split rule.

`GENERATOR_VERSION` changes whenever the output for a given spec changes.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from appsplus.schema import RawRow
from appsplus.sources import Source, SourceError

GENERATOR_VERSION = "1"
TIERS = (1, 2, 3, 4)
HELDOUT_FRACTION = 0.25  # of the operation combinations of each length
Kind = Literal["stdio", "call"]

# operation -> (code template, phrasings); `c` is the branch constant
OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "add": ("x + {c}", ("x plus {c}", "the sum of x and {c}", "x increased by {c}")),
    "sub": ("x - {c}", ("x minus {c}", "x decreased by {c}", "x reduced by {c}")),
    "mul": ("x * {c}", ("x times {c}", "the product of x and {c}", "x multiplied by {c}")),
    "rsub": ("{c} - x", ("{c} minus x", "the difference {c} - x", "{c} reduced by x")),
    "div": ("x // {c}", ("x divided by {c}, rounded down", "the floor of x / {c}")),
    "mod": ("x % {c}", ("the remainder of x divided by {c}", "x modulo {c}")),
}
CONDITIONS = ("x is less than {t}", "x < {t}", "x is smaller than {t}", "x is below {t}")
FIRST = ("If {cond}, {verb} {expr}.", "When {cond}, {verb} {expr}.")
MIDDLE = ("Otherwise, if {cond}, {verb} {expr}.", "Else, when {cond}, {verb} {expr}.")
LAST = ("Otherwise, {verb} {expr}.", "In every other case, {verb} {expr}.")
STDIO_VERBS = ("print", "output", "write")
FN_NAMES = ("solve", "transform", "piece", "compute", "value_of", "apply_rule")
MAX_X = 40


def _max_conditions(tier: int) -> int:
    return {1: 1, 2: 2, 3: 2, 4: 3}[tier]


def _looped(tier: int) -> bool:
    return tier >= 3


def heldout_combination(ops: tuple[str, ...]) -> bool:
    """Whether this sequence of branch operations belongs to the held-out split."""
    digest = hashlib.sha256(("ops:" + ",".join(ops)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HELDOUT_FRACTION


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate: the seed and the number of problems per tier in each split."""

    seed: int = 0
    train_per_tier: int = 40
    test_per_tier: int = 20

    @classmethod
    def parse(cls, text: str) -> SyntheticSpec:
        """'SEED[:TRAIN_PER_TIER[:TEST_PER_TIER]]' -> a spec; ValueError when malformed."""
        parts = text.split(":") if text else []
        if len(parts) > 3 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(
                f"synthetic spec must be SEED[:TRAIN_PER_TIER[:TEST_PER_TIER]] with "
                f"non-negative integers, got {text!r}"
            )
        values = [int(p) for p in parts]
        spec = cls(*values)
        if spec.train_per_tier + spec.test_per_tier == 0:
            raise ValueError("synthetic spec asks for no problems")
        return spec


@dataclass(frozen=True)
class SyntheticProblem:
    """One generated problem with its parameters (tier, kind, operations)."""

    problem_id: int
    split: Literal["train", "test"]
    tier: int
    kind: Kind
    fn_name: str | None
    thresholds: tuple[int, ...]
    ops: tuple[str, ...]
    constants: tuple[int, ...]
    question: str
    solution: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    seed: int = 0

    @property
    def lines(self) -> int:
        return self.solution.count("\n")

    def apps_row(self) -> dict:
        """The problem as a codeparrot/apps row (JSON-encoded solutions and input_output)."""
        io: dict = {"inputs": self.inputs, "outputs": self.outputs}
        if self.fn_name:
            io["fn_name"] = self.fn_name
        return {
            "problem_id": self.problem_id,
            "question": self.question,
            "solutions": json.dumps([self.solution]),
            "input_output": json.dumps(io),
            "difficulty": ("introductory", "introductory", "interview", "competition")[
                self.tier - 1
            ],
            "url": (
                f"https://example.invalid/appsplus-synthetic/v{GENERATOR_VERSION}/"
                f"seed-{self.seed}/{self.split}/{self.problem_id}?tier={self.tier}"
                f"&kind={self.kind}&ops={'-'.join(self.ops)}"
            ),
            "starter_code": f"def {self.fn_name}({'xs' if _looped(self.tier) else 'x'}):\n"
            if self.fn_name
            else "",
            "split": self.split,
        }


def evaluate(ops: tuple[str, ...], constants: tuple[int, ...], thresholds: tuple[int, ...], x: int):
    """The reference value of the piecewise function at x (the tests' expected outputs)."""
    branch = next((i for i, t in enumerate(thresholds) if x < t), len(thresholds))
    op, c = ops[branch], constants[branch]
    return {
        "add": x + c,
        "sub": x - c,
        "mul": x * c,
        "rsub": c - x,
        "div": x // c,
        "mod": x % c,
    }[op]


def _expression(op: str, c: int) -> str:
    return OPS[op][0].format(c=c)


def _program(kind: Kind, tier: int, fn: str | None, thresholds, ops, constants) -> str:
    """The canonical solution: an if/elif/else chain, in a loop for tiers 3 and 4."""
    looped = _looped(tier)
    if kind == "stdio":
        head = (
            ["q = int(input())", "for _ in range(q):", "    x = int(input())"]
            if looped
            else ["x = int(input())"]
        )
        indent = "    " if looped else ""

        def emit(expr: str) -> str:
            return f"print({expr})"
    else:
        head = (
            [f"def {fn}(xs):", "    out = []", "    for x in xs:"] if looped else [f"def {fn}(x):"]
        )
        indent = "        " if looped else "    "

        def emit(expr: str) -> str:
            return f"out.append({expr})" if looped else f"return {expr}"

    body = []
    for i, t in enumerate(thresholds):
        body.append(f"{indent}{'if' if i == 0 else 'elif'} x < {t}:")
        body.append(f"{indent}    {emit(_expression(ops[i], constants[i]))}")
    body.append(f"{indent}else:")
    body.append(f"{indent}    {emit(_expression(ops[-1], constants[-1]))}")
    tail = ["    return out"] if kind == "call" and looped else []
    return "\n".join(head + body + tail) + "\n"


def _statement(rng: random.Random, kind: Kind, tier: int, fn, thresholds, ops, constants) -> str:
    """The problem statement in words, phrasings drawn from `rng`."""
    looped = _looped(tier)
    if kind == "stdio":
        verb = rng.choice(STDIO_VERBS)
        intro = (
            rng.choice(
                (
                    "The first line holds q. Each of the next q lines holds one integer x.",
                    "You get q, then q integers x, one per line.",
                )
            )
            + " For each x, apply the rule below and print the result on its own line."
            if looped
            else rng.choice(("Read one integer x.", "The input is a single integer x."))
        )
    else:
        intro = (
            f"Write a function {fn}(xs) that takes a list of integers and returns the list "
            f"of results, one per element x, using the rule below."
            if looped
            else f"Write a function {fn}(x) that takes an integer x."
        )
        verb = "use" if looped else "return"
    clauses = []
    for i, t in enumerate(thresholds):
        template = rng.choice(FIRST if i == 0 else MIDDLE)
        cond = rng.choice(CONDITIONS).format(t=t)
        expr = rng.choice(OPS[ops[i]][1]).format(c=constants[i])
        clauses.append(template.format(cond=cond, verb=verb, expr=expr))
    last = rng.choice(OPS[ops[-1]][1]).format(c=constants[-1])
    clauses.append(rng.choice(LAST).format(verb=verb, expr=last))
    bounds = f"0 <= x <= {MAX_X}."
    return "\n".join([intro, " ".join(clauses), bounds])


def _test_values(rng: random.Random, thresholds: tuple[int, ...]) -> list[int]:
    """x values that reach every branch, with both sides of every threshold."""
    edges = [0, *thresholds, MAX_X + 1]
    values = set()
    for lo, hi in zip(edges, edges[1:]):
        values.add(rng.randrange(lo, hi))
        values.add(hi - 1)
    for t in thresholds:
        values.add(t)
    return sorted(values)


def _problem(rng: random.Random, split, pid: int, tier: int, kind: Kind, seed: int, ops):
    n = len(ops) - 1
    thresholds = tuple(sorted(rng.sample(range(2, MAX_X - 1), n)))
    constants = tuple(
        rng.randint(2, 9) if op in ("div", "mod", "mul") else rng.randint(1, 19) for op in ops
    )
    fn = rng.choice(FN_NAMES) if kind == "call" else None
    values = _test_values(rng, thresholds)
    ref = [evaluate(ops, constants, thresholds, x) for x in values]
    if not _looped(tier):
        if kind == "stdio":
            inputs, outputs = [f"{x}\n" for x in values], [f"{y}\n" for y in ref]
        else:
            inputs, outputs = [[x] for x in values], ref
    else:  # three tests, each a shuffled batch covering the branches (>= 2 values)
        inputs, outputs = [], []
        for _ in range(3):
            batch = rng.sample(values, k=max(2, min(len(values), rng.randint(4, 7))))
            ys = [evaluate(ops, constants, thresholds, x) for x in batch]
            if kind == "stdio":
                inputs.append(f"{len(batch)}\n" + "".join(f"{x}\n" for x in batch))
                outputs.append("".join(f"{y}\n" for y in ys))
            else:
                inputs.append([batch])
                outputs.append(ys)
    return SyntheticProblem(
        problem_id=pid,
        split=split,
        tier=tier,
        kind=kind,
        fn_name=fn,
        thresholds=thresholds,
        ops=ops,
        constants=constants,
        question=_statement(rng, kind, tier, fn, thresholds, ops, constants),
        solution=_program(kind, tier, fn, thresholds, ops, constants),
        inputs=inputs,
        outputs=outputs,
        seed=seed,
    )


def generate(spec: SyntheticSpec = SyntheticSpec()) -> list[SyntheticProblem]:
    """Every problem of `spec`: the train split, then the test split; ids count per split.

    Deterministic: the same spec gives the same problems on every machine and Python.
    Within a split, problems cycle through the tiers and alternate kinds; no two problems
    share (kind, tier, thresholds, operations, constants).
    """
    rng = random.Random(f"appsplus-synthetic-v{GENERATOR_VERSION}:{spec.seed}")
    names = sorted(OPS)
    problems: list[SyntheticProblem] = []
    seen: set[tuple] = set()
    for split, per_tier in (("train", spec.train_per_tier), ("test", spec.test_per_tier)):
        want_heldout = split == "test"
        pid = 0
        for i in range(per_tier * len(TIERS)):
            tier = TIERS[i % len(TIERS)]
            kind: Kind = "stdio" if (i // len(TIERS)) % 2 == 0 else "call"
            for _ in range(10_000):
                ops = tuple(rng.choice(names) for _ in range(_max_conditions(tier) + 1))
                if heldout_combination(ops) != want_heldout:
                    continue
                problem = _problem(rng, split, pid, tier, kind, spec.seed, ops)
                key = (kind, tier, problem.thresholds, problem.ops, problem.constants)
                if key not in seen:
                    break
            else:  # pragma: no cover - the parameter space is far larger than any spec
                raise ValueError("could not draw a new problem; ask for fewer")
            seen.add(key)
            problems.append(problem)
            pid += 1
    return problems


def tiers_by_problem_id(spec: SyntheticSpec) -> dict[str, int]:
    """Normalized problem ids ('apps/train/0007', as `appsplus build` names them) -> tier."""
    return {f"apps/{p.split}/{p.problem_id:04d}": p.tier for p in generate(spec)}


class SyntheticSource(Source):
    """Generated rows in the codeparrot/apps row format; each row carries its own split."""

    name = "synthetic"

    def __init__(self, spec: str = "") -> None:
        try:
            self.spec = SyntheticSpec.parse(spec)
        except ValueError as e:
            raise SourceError(str(e)) from None
        self._rows = [p.apps_row() for p in generate(self.spec)]

    @property
    def revision(self) -> str:
        data = json.dumps(self._rows, sort_keys=True).encode()
        return f"synthetic-v{GENERATOR_VERSION}:sha256:{hashlib.sha256(data).hexdigest()}"

    def iter_rows(self) -> Iterator[RawRow]:
        for ordinal, row in enumerate(self._rows):
            yield RawRow(
                source=self.name,
                format="apps_row",
                locator=f"synthetic:{row['split']}:{row['problem_id']}",
                ordinal=ordinal,
                raw=row,
            )
