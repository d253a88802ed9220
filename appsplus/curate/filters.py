"""Static checks on a typed Problem: each returns (reason, detail) to reject it, or None to keep it.

    rejection = apply_filters(problem)              # STATIC_FILTERS, first failure wins
    check_id = duplicate_id_filter()                 # stateful: one per build
    rejection = apply_filters(problem, [*STATIC_FILTERS, check_id])

Normalize already rejects rows whose inputs and outputs differ in number
(io_length_mismatch) and malformed fields, so these checks see well-formed problems.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from appsplus.schema import Problem, Rejection, RejectReason

FilterResult = tuple[RejectReason, str]
Filter = Callable[[Problem], FilterResult | None]


def check_has_tests(problem: Problem) -> FilterResult | None:
    """A problem needs at least one test: zero tests would pass any program."""
    if not problem.tests:
        return RejectReason.NO_TESTS, "the problem has no tests"
    return None


def check_has_solutions(problem: Problem) -> FilterResult | None:
    """A problem needs at least one reference solution to verify its tests."""
    other = problem.provenance.get("other_language_solutions")
    if not problem.solutions and isinstance(other, dict) and other:
        # CodeContests: solutions in other languages only (Python 2 is not Python 3)
        had = ", ".join(f"{n} {language}" for language, n in sorted(other.items()))
        return RejectReason.NO_SOLUTIONS, f"no Python 3 solution (the source has {had})"
    if not problem.solutions:
        return RejectReason.NO_SOLUTIONS, "the problem has no reference solution"
    if not any(s.strip() for s in problem.solutions):
        return RejectReason.NO_SOLUTIONS, f"all {len(problem.solutions)} solutions are empty"
    return None


STATIC_FILTERS: list[Filter] = [check_has_tests, check_has_solutions]


def duplicate_id_filter() -> Filter:
    """A stateful filter rejecting a problem_id seen before (first occurrence kept); one per build."""
    seen: set[str] = set()

    def check_unique_id(problem: Problem) -> FilterResult | None:
        if problem.problem_id in seen:
            return RejectReason.DUPLICATE_ID, f"{problem.problem_id} already appeared earlier"
        seen.add(problem.problem_id)
        return None

    return check_unique_id


def apply_filters(problem: Problem, filters: Sequence[Filter] = STATIC_FILTERS) -> Rejection | None:
    """Run the filters in order; the first failure becomes a Rejection (stage 'filter')."""
    for check in filters:
        result = check(problem)
        if result is not None:
            reason, detail = result
            return Rejection(
                problem_id=problem.problem_id,
                locator=str(problem.provenance.get("locator", problem.problem_id)),
                source=str(problem.provenance.get("source", "")),
                reason=reason,
                detail=detail,
                stage="filter",
            )
    return None
