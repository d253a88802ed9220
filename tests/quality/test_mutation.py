"""Mutation analysis and augmentation through the real executor, on hand-made problems."""

from __future__ import annotations

import pytest

from appsplus.curate.cache import CachedRunner
from appsplus.curate.verify import Verified, VerifyConfig, verify_problems
from appsplus.execution import CallTest, Limits, StdioTest, run_tests
from appsplus.quality.assess import assess
from appsplus.quality.inputs import generate_inputs
from appsplus.quality.models import QualityConfig
from appsplus.quality.mutate import mutants
from appsplus.schema import Problem

COLLATZ = """n = int(input())
if n % 2 == 0:
    print(n // 2)
else:
    print(3 * n + 1)
"""
COLLATZ_TOO = """n = int(input())
print(n // 2 if n % 2 == 0 else 3 * n + 1)
"""
VERIFY = VerifyConfig(limits=Limits(time_s=2.0))


def stdio_problem(inputs, solutions=(COLLATZ, COLLATZ_TOO), pid="apps/train/0001"):
    def step(n):
        return n // 2 if n % 2 == 0 else 3 * n + 1

    return Problem(
        problem_id=pid,
        source_id=1,
        split="train",
        difficulty="introductory",
        question="Print the next Collatz number after n.",
        kind="stdio",
        tests=[StdioTest(input=f"{n}\n", output=f"{step(n)}\n") for n in inputs],
        solutions=list(solutions),
    )


def verified(problems, runner) -> list[Verified]:
    out = verify_problems(problems, VERIFY, runner)
    assert all(isinstance(v, Verified) for v in out), out
    return out


def test_mutants_cover_the_operators_and_are_stable():
    source = "def f(a, b):\n    if a < b and not a:\n        return g(a, b) + 1\n    return a * b\n"
    found = mutants(source)
    ops = {m.id.split("@")[0] for m in found}
    assert {
        "cmp_Lt_LtE",
        "bool_And_Or",
        "drop_not",
        "swap_args",
        "arith_Add_Sub",
        "const_plus1",
        "const_minus1",
        "arith_Mult_FloorDiv",
    } <= ops
    assert len({m.id for m in found}) == len(found)
    assert all(m.program != source for m in found)
    assert mutants(source) == found  # the same program gives the same mutants
    sampled = mutants(source, k=3, seed="s")
    assert len(sampled) == 3 and sampled == mutants(source, k=3, seed="s")
    assert {m.id for m in sampled} <= {m.id for m in found}
    assert mutants("def (:") == []
    loop = "for i in range(n):\n    if i:\n        break\n    x = i\n"
    ops = {m.id.split("@")[0] for m in mutants(loop)}
    assert {"range_stop_plus1", "range_stop_minus1", "break_continue", "delete_stmt"} <= ops


def test_weak_tests_score_low_with_survivors_and_strong_tests_score_high(pool):
    runner = CachedRunner(pool)
    weak = stdio_problem([2, 4, 10], pid="apps/train/0001")  # only the even branch is tested
    strong = stdio_problem([2, 3, 7, 10, 1], pid="apps/train/0002")
    config = QualityConfig(max_mutants=40)
    weak_q, strong_q = (
        a.quality for a in assess(verified([weak, strong], runner), config, VERIFY, runner)
    )
    assert weak_q.equivalence_checked and strong_q.equivalence_checked
    assert weak_q.mutation_score is not None and weak_q.mutation_score < 0.8
    assert "weak_tests" in weak_q.flags
    # what only odd inputs tell apart survives: the odd branch (line 5: 3 * n + 1 -> 3 * n - 1,
    # 3 // n + 1, 4 * n + 1, no print...) and `n % 1 == 0` (line 2), never the even branch
    assert {"arith_Add_Sub@5:10", "delete_stmt@5:4"} <= set(weak_q.surviving_mutants)
    assert all(s.split("@")[1].split(":")[0] in ("2", "5") for s in weak_q.surviving_mutants)
    assert len(weak_q.surviving_mutants) == weak_q.mutants_counted - weak_q.mutants_killed
    assert strong_q.mutation_score == 1.0 and strong_q.surviving_mutants == []
    assert "weak_tests" not in strong_q.flags


def test_augmentation_only_adds_tests_every_verified_solution_passes(pool):
    runner = CachedRunner(pool)
    # solution 2 agrees with the others on the given (even) inputs but not on odd ones:
    # odd generated inputs are out of the agreed domain and must be discarded
    odd_differs = "n = int(input())\nprint(n // 2 if n % 2 == 0 else 0)\n"
    problem = stdio_problem([2, 4, 10, 40], solutions=(COLLATZ, COLLATZ_TOO, odd_differs))
    config = QualityConfig(augment_tests=6, seed=3, probe_solutions=2)
    (result,) = assess(verified([problem], runner), config, VERIFY, runner)
    plain = QualityConfig(seed=3, probe_solutions=2)
    (without,) = assess(verified([problem], runner), plain, VERIFY, runner)
    # augmenting runs every verified solution, but the score is judged as without it
    assert result.quality.mutation_score == without.quality.mutation_score
    assert result.quality.surviving_mutants == without.quality.surviving_mutants
    record_tests = result.verified.problem.tests
    added = result.quality.generated_tests
    assert added, "no test was generated"
    assert len(record_tests) == len(problem.tests) + len(added)
    assert len(result.verified.reference_runtimes_s) == len(record_tests)
    for g in added:
        assert g.origin == "generated" and g.seed == f"3:{problem.problem_id}"
        assert int(record_tests[g.test_index].input) % 2 == 0  # odd inputs were disagreements
    for solution in problem.solutions:
        outcome = run_tests(solution, record_tests, limits=VERIFY.limits)
        assert outcome.passed, outcome.verdicts
    assert result.quality.mutation_score_augmented >= result.quality.mutation_score


def test_augmentation_of_call_based_problems(pool):
    runner = CachedRunner(pool)
    solutions = [
        "def spread(xs):\n    return max(xs) - min(xs)\n",
        "def spread(xs):\n    s = sorted(xs)\n    return s[-1] - s[0]\n",
    ]
    tests = [
        CallTest(fn_name="spread", args=[xs], expected=max(xs) - min(xs))
        for xs in ([3, 1, 2], [5], [-4, 10, 7, 7])
    ]
    problem = Problem(
        problem_id="apps/test/0001",
        source_id=1,
        split="test",
        difficulty="introductory",
        question="Return the largest minus the smallest element.",
        kind="call",
        fn_name="spread",
        tests=tests,
        solutions=solutions,
    )
    (result,) = assess(verified([problem], runner), QualityConfig(augment_tests=4), VERIFY, runner)
    final = result.verified.problem.tests
    assert len(final) > len(tests)
    for test in final[len(tests) :]:
        xs = test.args[0]
        assert isinstance(xs, list) and test.expected == max(xs) - min(xs)
    for solution in solutions:
        assert run_tests(solution, final, limits=VERIFY.limits).passed


def test_nondeterministic_and_loose_outputs_are_flagged(pool):
    runner = CachedRunner(pool)
    noisy = "import os\nn = int(input())\nprint(n + os.urandom(1)[0] * 1e-9)\n"
    problem = Problem(
        problem_id="apps/train/0003",
        source_id=3,
        split="train",
        difficulty="introductory",
        question="Print n.",
        kind="stdio",
        tests=[StdioTest(input=f"{n}\n", output=f"{n}.000000\n") for n in (1, 2, 3)],
        solutions=[noisy],
    )
    steady = stdio_problem([2, 3], pid="apps/train/0004")
    config = QualityConfig(mutation=False)
    noisy_q, steady_q = (
        a.quality for a in assess(verified([problem, steady], runner), config, VERIFY, runner)
    )
    assert {"nondeterministic", "loose_expected_output"} <= set(noisy_q.flags)
    assert noisy_q.mutation_score is None
    assert steady_q.flags == []


def test_output_that_depends_on_the_hash_seed_is_flagged(pool):
    """Set order of strings changes with PYTHONHASHSEED: the rerun runs under another seed."""
    runner = CachedRunner(pool)
    words = " ".join(f"w{i}" for i in range(12))
    program = "input()\nprint(*set(input().split()))\n"
    first = run_tests(program, [StdioTest(input=f"1\n{words}\n", output="")], pool=pool)
    expected = first.tests[0].output  # the seed-0 order (the one verification sees)
    problem = Problem(
        problem_id="apps/train/0005",
        source_id=5,
        split="train",
        difficulty="introductory",
        question="Print the words.",
        kind="stdio",
        tests=[StdioTest(input=f"1\n{words}\n", output=expected)],
        solutions=[program],
    )
    (assessed,) = assess(verified([problem], runner), QualityConfig(mutation=False), VERIFY, runner)
    assert "nondeterministic" in assessed.quality.flags


@pytest.mark.parametrize("seed", ["a", "b"])
def test_generated_inputs_keep_the_format(seed):
    tests = [
        StdioTest(input="3\n1 2 3\nabc\n", output=""),
        StdioTest(input="2\n5 9\nxyz\n", output=""),
    ]
    made = generate_inputs(tests, 8, seed)
    assert made and made == generate_inputs(tests, 8, seed)
    for parent, test in made:
        lines = [line.split() for line in test.input.splitlines()]
        original = [line.split() for line in tests[parent].input.splitlines()]
        assert [len(x) for x in lines] == [len(x) for x in original]
        assert lines[0] == original[0]  # the count of the next line's tokens stays
        assert len(lines[2][0]) == len(original[2][0])
    calls = [CallTest(fn_name="f", args=[[1, 2], "ab", True, 2.5], expected=0)]
    for _, test in generate_inputs(calls, 6, seed):
        kinds = [type(a) for a in test.args]
        assert kinds == [list, str, bool, float]
