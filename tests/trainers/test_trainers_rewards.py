"""appsplus.trainers.judge on real programs: outcome classes, the reward table, FGO token masks."""

from __future__ import annotations

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from appsplus.execution import CallTest, ExecutionResult, StdioTest, TestResult, Verdict  # noqa: E402
from appsplus.trainers.data import TaskRecord, completion_offsets  # noqa: E402
from appsplus.trainers.judge import (  # noqa: E402
    RewardTable,
    compute_reward,
    compute_rewards,
    program_outcome,
)

CORPUS = [
    "n = int(input())\nif n > 0:\n    print('pos')\nelse:\n    print('neg')\nprint('end')\n",
    "def f(x):\n    if x > 0:\n        return x\n    return -x\n",
    "for i in range(int(input())):\n    print(i * i)\n",
] * 20


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    from appsplus.trainers.model import build_tiny

    folder = build_tiny(tmp_path_factory.mktemp("tiny"), CORPUS, vocab_size=300, hidden_size=16)
    return AutoTokenizer.from_pretrained(folder)


def stdio_record(tests: list[tuple[str, str]], time_limit_s: float = 2.0) -> TaskRecord:
    return TaskRecord(
        problem_id="t/train/1",
        split="train",
        difficulty="introductory",
        question="Print pos or neg.",
        kind="stdio",
        tests=[StdioTest(input=i, output=o) for i, o in tests],
        canonical_solution="print('pos')\n",
        time_limit_s=time_limit_s,
    )


SIGN = stdio_record([("5\n", "pos\nend\n"), ("7\n", "pos\nend\n")], time_limit_s=0.5)


@pytest.mark.parametrize(
    ("program", "outcome", "scalar"),
    [
        ("n = int(input())\nprint('pos')\nprint('end')\n", Verdict.PASSED, 1.0),
        ("print('neg')\n", Verdict.WRONG_ANSWER, -0.3),
        ("n = int(input())\nprint(1 / (n - 5))\n", Verdict.RUNTIME_ERROR, -0.6),
        ("while True:\n    pass\n", Verdict.TIMEOUT, -0.6),
        ("print('pos'\n", Verdict.COMPILE_ERROR, -1.0),
    ],
    ids=["passed", "wrong", "runtime", "timeout", "compile"],
)
def test_outcomes_and_default_table_on_real_programs(pool, program, outcome, scalar):
    result = compute_reward(SIGN, "", program, pool=pool)
    assert result.outcome is outcome
    assert result.scalar == scalar
    assert result.passed == (outcome is Verdict.PASSED)
    assert len(result.verdicts) == 2


def test_a_crash_on_one_test_outranks_a_wrong_answer_on_another(pool):
    program = "n = int(input())\nprint('pos' if n == 5 else 1 / 0)\n"  # wrong, then crash
    result = compute_reward(SIGN, "", program, pool=pool)
    assert result.verdicts == [Verdict.WRONG_ANSWER, Verdict.RUNTIME_ERROR]
    assert result.outcome is Verdict.RUNTIME_ERROR and result.scalar == -0.6


def test_custom_table_and_call_based_problem(pool):
    record = TaskRecord(
        problem_id="t/train/2",
        split="train",
        difficulty="interview",
        question="Add.",
        kind="call",
        fn_name="add",
        tests=[CallTest(fn_name="add", args=[1, 2], expected=3)],
        canonical_solution="def add(a, b):\n    return a + b\n",
    )
    table = RewardTable(passed=2.0, wrong_answer=-0.1)
    good = compute_reward(record, "def add(a, b):\n", "    return a + b\n", table, pool=pool)
    bad = compute_reward(record, "def add(a, b):\n", "    return a - b\n", table, pool=pool)
    assert (good.scalar, bad.scalar) == (2.0, -0.1)


def test_outcome_precedence_on_constructed_results():
    def result(*verdicts, compile_error=None):
        return ExecutionResult(
            tests=[TestResult(verdict=v) for v in verdicts], compile_error=compile_error
        )

    assert program_outcome(result(Verdict.PASSED, Verdict.PASSED)) is Verdict.PASSED
    assert program_outcome(result()) is Verdict.WRONG_ANSWER  # zero tests is never a pass
    assert program_outcome(result(Verdict.PASSED, Verdict.SKIPPED)) is Verdict.WRONG_ANSWER
    assert (
        program_outcome(result(Verdict.WRONG_ANSWER, Verdict.MEMORY_EXCEEDED))
        is Verdict.MEMORY_EXCEEDED
    )
    assert (
        program_outcome(result(Verdict.OUTPUT_LIMIT_EXCEEDED, Verdict.TIMEOUT))
        is Verdict.OUTPUT_LIMIT_EXCEEDED
    )
    compiled = result(Verdict.COMPILE_ERROR, compile_error="SyntaxError")
    assert program_outcome(compiled) is Verdict.COMPILE_ERROR
    table = RewardTable()
    assert [
        table.of(v)
        for v in (
            Verdict.TIMEOUT,
            Verdict.MEMORY_EXCEEDED,
            Verdict.OUTPUT_LIMIT_EXCEEDED,
            Verdict.SKIPPED,
        )
    ] == [-0.6, -0.6, -0.6, -0.3]


def test_batched_rewards_equal_single_rewards_in_order(pool):
    programs = ["print('neg')\n", "n = int(input())\nprint('pos')\nprint('end')\n", "x = (\n"] * 3
    batch = compute_rewards([SIGN] * len(programs), [""] * len(programs), programs, pool=pool)
    singles = [compute_reward(SIGN, "", p, pool=pool) for p in programs]
    assert batch == singles


def encode(tokenizer, text: str) -> list[tuple[int, int]]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    decoded, offsets = completion_offsets(tokenizer, ids)
    assert decoded == text
    return offsets


def test_fgo_masks_exactly_the_untaken_branch_of_a_completion(pool, tokenizer):
    completion = CORPUS[0]
    result = compute_reward(SIGN, "", completion, pool=pool)
    assert result.passed
    offsets = encode(tokenizer, completion)
    keep = result.token_mask(offsets)
    start, end = completion.index("else"), completion.index("print('end')")
    for (a, b), kept in zip(offsets, keep):
        if a == b:
            assert not kept  # EOS is zero-width: the trainer keeps it explicitly
        elif start <= a and b <= end:
            assert not kept, f"token {completion[a:b]!r} of the untaken else branch is kept"
        elif b <= start or a >= end:
            assert kept, f"executed token {completion[a:b]!r} is masked"
    masked_text = "".join(completion[a:b] for (a, b), k in zip(offsets, keep) if not k)
    assert "neg" in masked_text and "pos" not in masked_text


def test_prefix_shift_masks_completion_tokens_by_the_whole_program(pool, tokenizer):
    program = CORPUS[0]
    # prefix holds the taken branch, completion is the untaken one: every code token masked
    cut = program.index("else")
    prefix, completion = program[:cut], program[cut:]
    result = compute_reward(SIGN, prefix, completion, pool=pool)
    assert result.passed
    offsets = encode(tokenizer, completion)
    keep = result.token_mask(offsets)
    kept_text = "".join(completion[a:b] for (a, b), k in zip(offsets, keep) if k)
    assert "print('end')" in kept_text
    assert "neg" not in kept_text and "else" not in kept_text
    # prefix holds the untaken branch's header line, completion runs: nothing executed is masked
    prefix2 = "n = int(input())\nif n < 0:\n    print('neg')\n"
    completion2 = "print('pos')\nprint('end')\n"
    result2 = compute_reward(SIGN, prefix2, completion2, pool=pool)
    assert result2.passed
    offsets2 = encode(tokenizer, completion2)
    assert result2.token_mask(offsets2)[:-1] == [True] * (len(offsets2) - 1)


def test_no_line_information_keeps_every_token(pool, tokenizer):
    broken = compute_reward(SIGN, "", "if n >\n    print(1)\n", pool=pool)
    assert broken.outcome is Verdict.COMPILE_ERROR and broken.completion_ranges is None
    assert broken.token_mask([(0, 2), (2, 5)]) == [True, True]


def test_fgo_on_an_apps_program_with_a_top_level_return(pool, tokenizer):
    program = (
        "n = int(input())\nif n > 0:\n    print('pos')\n    print('end')\n    return\nprint('x')\n"
    )
    result = compute_reward(SIGN, "", program, pool=pool)
    assert result.passed
    keep = result.token_mask(offsets := encode(tokenizer, program))
    masked = "".join(program[a:b] for (a, b), k in zip(offsets, keep) if not k and b > a)
    assert masked.strip() == "print('x')"


def test_completion_offsets_cover_multibyte_characters(tokenizer):
    text = "s = 'héllo → wörld'\nprint(s)\n"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > len(text.encode()) // 4  # some characters span several byte tokens
    decoded, offsets = completion_offsets(tokenizer, [*ids, tokenizer.eos_token_id])
    assert decoded == text
    assert offsets[-1][0] == offsets[-1][1] == len(text)  # EOS: zero width at the end
    assert offsets[0][0] == 0 and offsets[-2][1] == len(text)
    assert all(a <= b for a, b in offsets)
    assert all(b1 <= a2 or (a1, b1) == (a2, b2) for (a1, b1), (a2, b2) in zip(offsets, offsets[1:]))
    covered = set()
    for a, b in offsets:
        covered.update(range(a, b))
    assert covered == set(range(len(text)))
    arrow = text.index("→")
    assert sum(1 for a, b in offsets if a <= arrow < b) >= 2  # the arrow's 3 bytes: shared range


def test_completion_offsets_agree_with_the_tokenizers_own_offsets(tokenizer):
    for text in CORPUS[:3] + ["x = 'é → ü'\nprint(x)\n"]:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        decoded, offsets = completion_offsets(tokenizer, enc["input_ids"])
        assert decoded == text
        if text.isascii():
            assert offsets == [tuple(o) for o in enc["offset_mapping"]]
        else:  # byte tokens of one character share its range (the tokenizer's own may not)
            assert [b for _, b in offsets][-1] == len(text)
