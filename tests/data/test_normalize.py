"""normalize + static filters: expected outcomes on the sample, edge cases, garbage, real data."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit import SHARED_DATA  # $APPSPLUS_DATA_DIR or ../shared/data

from appsplus.curate.filters import STATIC_FILTERS, apply_filters, duplicate_id_filter
from appsplus.curate.normalize import UNEXPECTED, difficulty_from_id, docstring_text, normalize
from appsplus.execution import CallTest, StdioTest
from appsplus.schema import Problem, RawRow, Rejection, RejectReason
from appsplus.sources import open_source
from appsplus.sources.local import iter_jsonl

needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"real data folder {SHARED_DATA} is absent (fresh clone; set APPSPLUS_DATA_DIR)",
)
EXECUTION_OUTCOMES = {"kept", "no_passing_solution", "disputed_expected_output"}


def expected_rows() -> list[dict]:
    text = resources.files("appsplus").joinpath("data", "sample", "expected.json").read_text()
    return json.loads(text)["rows"]


def outcome(row: RawRow) -> Problem | Rejection:
    """normalize, then the static filters: a Problem only if it survives both."""
    result = normalize(row)
    if isinstance(result, Problem):
        return apply_filters(result) or result
    return result


def apps_row(**fields) -> RawRow:
    raw = {
        "problem_id": 12,
        "split": "train",
        "question": "Print the sum of two integers.",
        "solutions": json.dumps(["print(sum(map(int, input().split())))\n"]),
        "input_output": json.dumps({"inputs": ["1 2\n", "5 5\n"], "outputs": ["3\n", "10\n"]}),
        "difficulty": "interview",
        "url": "https://example.invalid/12",
        "starter_code": "",
    }
    raw.update(fields)
    raw = {k: v for k, v in raw.items() if v is not ...}
    return RawRow(source="test", format="apps_row", locator="t.jsonl:1", ordinal=0, raw=raw)


def call_io(inputs: list, outputs: list, fn_name: str = "f") -> str:
    return json.dumps({"fn_name": fn_name, "inputs": inputs, "outputs": outputs})


# ---------------------------------------------------------------- the embedded sample


SAMPLE_ROWS = list(open_source("sample").iter_rows())
EXPECTED = expected_rows()


def test_sample_and_expectations_line_up():
    assert len(SAMPLE_ROWS) == len(EXPECTED) == 43
    assert [e["line"] for e in EXPECTED] == list(range(1, 44))


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"line{e['line']}-{e['outcome']}")
def test_sample_row_outcome(expected):
    result = outcome(SAMPLE_ROWS[expected["line"] - 1])
    if expected["outcome"] in EXECUTION_OUTCOMES:  # decided by running the solutions
        assert isinstance(result, Problem), result
        assert result.split == expected["split"]
        assert result.difficulty == expected["difficulty"]
        assert result.source_id == expected["problem_id"]
        assert result.problem_id == f"apps/{expected['split']}/{expected['problem_id']:04d}"
        if "kind" in expected:
            assert result.kind == expected["kind"]
            assert len(result.tests) == expected["n_tests"]
            assert len(result.solutions) == len(expected["solution_status"])
    else:
        assert isinstance(result, Rejection), result
        assert result.reason.value == expected["outcome"], result.detail
        assert result.detail
        pid = expected["problem_id"]
        if pid is not None and result.reason is not RejectReason.INVALID_ENCODING:
            assert result.problem_id == f"apps/{expected['split']}/{pid:04d}"


def test_sample_accounting():
    problems = rejections = 0
    stages = Counter()
    for row in SAMPLE_ROWS:
        result = outcome(row)
        if isinstance(result, Problem):
            problems += 1
        else:
            rejections += 1
            stages[result.stage] += 1
    assert problems + rejections == len(SAMPLE_ROWS)
    static = sum(e["outcome"] not in EXECUTION_OUTCOMES for e in EXPECTED)
    assert rejections == static and problems == len(EXPECTED) - static
    assert stages == {"read": 3, "normalize": 6, "filter": 4}


def test_sample_crlf_inputs_become_lf():
    (row,) = [r for r in SAMPLE_ROWS if r.raw and r.raw.get("problem_id") == 1976]
    problem = normalize(row)
    assert isinstance(problem, Problem)
    assert problem.provenance["crlf_normalized_tests"] == 3
    assert not any("\r\n" in t.input or "\r\n" in t.output for t in problem.tests)


def test_sample_call_output_conventions():
    by_id = {r.raw["problem_id"]: r for r in SAMPLE_ROWS if r.raw}
    bare = normalize(by_id[4803])  # outputs are bare ints
    wrapped = normalize(by_id[1974])  # outputs are one-element lists
    assert isinstance(bare, Problem) and isinstance(wrapped, Problem)
    assert all(isinstance(t, CallTest) and not t.apps_list_quirk for t in bare.tests)
    assert all(isinstance(t, CallTest) and t.apps_list_quirk for t in wrapped.tests)
    assert bare.fn_name == "countVowelWords" and bare.starter_code.startswith("class Solution")


# ---------------------------------------------------------------- field handling


@pytest.mark.parametrize(
    ("split", "source_id", "difficulty"),
    [
        ("train", 0, "interview"),
        ("train", 1999, "interview"),
        ("train", 2000, "competition"),
        ("train", 2360, "competition"),
        ("train", 2361, "introductory"),
        ("train", 4999, "introductory"),
        ("test", 2999, "interview"),
        ("test", 3000, "competition"),
        ("test", 3999, "competition"),
        ("test", 4000, "introductory"),
        ("test", 5000, None),
    ],
)
def test_difficulty_from_id(split, source_id, difficulty):
    assert difficulty_from_id(split, source_id) == difficulty


def test_good_row():
    problem = normalize(apps_row())
    assert isinstance(problem, Problem)
    assert problem.problem_id == "apps/train/0012" and problem.source_id == 12
    assert problem.kind == "stdio" and problem.fn_name is None
    assert problem.tests == [
        StdioTest(input="1 2\n", output="3\n"),
        StdioTest(input="5 5\n", output="10\n"),
    ]
    assert apply_filters(problem) is None


def test_raw_hub_rows_may_call_the_id_id():
    problem = normalize(apps_row(problem_id=..., id=31))
    assert isinstance(problem, Problem) and problem.source_id == 31
    clash = normalize(apps_row(id=13))
    assert isinstance(clash, Rejection) and clash.reason is RejectReason.INVALID_FIELD


def test_missing_difficulty_comes_from_the_id_range():
    problem = normalize(apps_row(problem_id=2100, difficulty=...))
    assert isinstance(problem, Problem)
    assert (
        problem.difficulty == "competition" and problem.provenance["difficulty_from"] == "id_range"
    )
    outside = normalize(apps_row(problem_id=7000, difficulty=None))
    assert isinstance(outside, Rejection) and outside.reason is RejectReason.INVALID_FIELD


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"problem_id": -1}, RejectReason.INVALID_FIELD),
        ({"problem_id": True}, RejectReason.INVALID_FIELD),
        ({"problem_id": 1.5}, RejectReason.INVALID_FIELD),
        ({"split": "valid"}, RejectReason.INVALID_FIELD),
        ({"split": ...}, RejectReason.INVALID_FIELD),
        ({"question": ""}, RejectReason.INVALID_FIELD),
        ({"question": ["a"]}, RejectReason.INVALID_FIELD),
        ({"url": 3}, RejectReason.INVALID_FIELD),
        ({"difficulty": 2}, RejectReason.INVALID_FIELD),
        ({"solutions": '"print(1)"'}, RejectReason.MALFORMED_SOLUTIONS),
        ({"solutions": 5}, RejectReason.MALFORMED_SOLUTIONS),
        ({"input_output": "[]"}, RejectReason.MALFORMED_INPUT_OUTPUT),
        ({"input_output": '{"inputs": ["1\\n"]}'}, RejectReason.MALFORMED_INPUT_OUTPUT),
        ({"input_output": '{"inputs": [1], "outputs": [2]}'}, RejectReason.MALFORMED_INPUT_OUTPUT),
        (
            {"input_output": call_io([[1]], [[2]], fn_name="not an id")},
            RejectReason.MALFORMED_INPUT_OUTPUT,
        ),
        ({"input_output": call_io([1], [[2]])}, RejectReason.MALFORMED_INPUT_OUTPUT),
        ({"input_output": '{"inputs": ["1"], "outputs": []}'}, RejectReason.IO_LENGTH_MISMATCH),
        ({"question": "bad \ud800 surrogate"}, RejectReason.INVALID_ENCODING),
        ({"source": "origin \ud800"}, RejectReason.INVALID_ENCODING),
        (
            {"input_output": '{"inputs": ["\\udc00"], "outputs": ["x"]}'},
            RejectReason.INVALID_ENCODING,
        ),
        ({"input_output": '{"inputs": ' + "[" * 900 + "]" * 900 + ', "outputs": [1]}'}, None),
    ],
)
def test_field_rejections(fields, reason):
    result = normalize(apps_row(**fields))
    assert isinstance(result, Rejection)
    assert UNEXPECTED not in result.detail
    if reason is not None:
        assert result.reason is reason, result.detail
    assert result.stage == "normalize" and result.locator == "t.jsonl:1"


def test_split_from_the_file_wins_but_must_agree():
    row = apps_row(split=...).model_copy(update={"split": "test"})
    problem = normalize(row)
    assert isinstance(problem, Problem) and problem.problem_id == "apps/test/0012"
    clash = normalize(apps_row(split="train").model_copy(update={"split": "test"}))
    assert isinstance(clash, Rejection) and "contradicts" in clash.detail


def test_oversized_field():
    row = apps_row(question="x" * 5000)
    result = normalize(row, max_field_bytes=4096)
    assert isinstance(result, Rejection) and result.reason is RejectReason.OVERSIZED_FIELD
    assert result.problem_id == "apps/train/0012" and "'question'" in result.detail
    multibyte = normalize(apps_row(question="é" * 1500), max_field_bytes=2048)  # 3000 bytes
    assert isinstance(multibyte, Rejection) and multibyte.reason is RejectReason.OVERSIZED_FIELD
    assert isinstance(normalize(apps_row(question="é" * 1000), max_field_bytes=2048), Problem)


def test_duplicate_tests_are_dropped_keeping_the_first():
    io = {"inputs": ["1\n", "2\n", "1\n", "1\r\n"], "outputs": ["a\n", "b\n", "a\n", "a\n"]}
    problem = normalize(apps_row(input_output=json.dumps(io)))
    assert isinstance(problem, Problem)
    assert [t.input for t in problem.tests] == ["1\n", "2\n"]
    assert problem.provenance["duplicate_tests_removed"] == 2


def test_call_tests_dedupe_by_exact_type():
    io = call_io([[1], [1], [True], [1.0]], [[2], [2], [2], [2]])
    problem = normalize(apps_row(input_output=io))
    assert isinstance(problem, Problem)
    assert [t.args for t in problem.tests] == [[1], [True], [1.0]]
    assert [type(t.args[0]) for t in problem.tests] == [int, bool, float]


def test_stdio_keeps_bytes_except_crlf():
    io = {"inputs": ["a\r\nb\rc  \n"], "outputs": ["x\r\ny"]}
    problem = normalize(apps_row(input_output=json.dumps(io)))
    assert isinstance(problem, Problem)
    assert problem.tests == [StdioTest(input="a\nb\rc  \n", output="x\ny")]


def test_stdio_lists_of_lines_are_joined():
    io = {"inputs": [["3", "1 2 3"]], "outputs": [["6"]]}
    problem = normalize(apps_row(input_output=json.dumps(io)))
    assert isinstance(problem, Problem)
    assert problem.tests == [StdioTest(input="3\n1 2 3", output="6")]


def test_call_values_are_untouched_and_huge_ints_survive():
    digits = "7" * 5000
    io = '{"fn_name": "f", "inputs": [[' + digits + ', "a\\r\\nb"]], "outputs": [["x\\r\\n"]]}'
    problem = normalize(apps_row(input_output=io))
    assert isinstance(problem, Problem) and problem.kind == "call" and problem.fn_name == "f"
    (test,) = problem.tests
    assert isinstance(test, CallTest)
    assert test.args == [(10**5000 - 1) // 9 * 7, "a\r\nb"]  # 5000 sevens
    assert test.expected == ["x\r\n"] and test.apps_list_quirk


def test_empty_tests_and_solutions_reach_the_filters():
    no_tests = normalize(apps_row(input_output=""))
    assert isinstance(no_tests, Problem)
    assert apply_filters(no_tests).reason is RejectReason.NO_TESTS
    blank = normalize(apps_row(solutions=json.dumps(["  \n"])))
    assert isinstance(blank, Problem)
    rejection = apply_filters(blank)
    assert rejection.reason is RejectReason.NO_SOLUTIONS and rejection.stage == "filter"


def test_duplicate_id_filter_keeps_the_first():
    problem = normalize(apps_row())
    assert isinstance(problem, Problem)
    filters = [*STATIC_FILTERS, duplicate_id_filter()]
    assert apply_filters(problem, filters) is None
    again = apply_filters(problem, filters)
    assert again is not None and again.reason is RejectReason.DUPLICATE_ID
    assert apply_filters(problem, [*STATIC_FILTERS, duplicate_id_filter()]) is None  # fresh state


def test_apps_folder_rows():
    raw = {
        "problem_dir": "0042",
        "question": "Q",
        "solutions": json.dumps(["print(1)"]),
        "input_output": json.dumps({"inputs": ["\n"], "outputs": ["1\n"]}),
        "metadata": None,
        "starter_code": None,
        "files": ["input_output.json", "question.txt", "solutions.json"],
    }
    row = RawRow(
        source="t", format="apps_folder", locator="test/0042", ordinal=0, split="test", raw=raw
    )
    problem = normalize(row)
    assert isinstance(problem, Problem)
    assert (problem.problem_id, problem.difficulty, problem.url) == (
        "apps/test/0042",
        "interview",
        "",
    )
    bad_meta = normalize(row.model_copy(update={"raw": dict(raw, metadata="{oops")}))
    assert isinstance(bad_meta, Rejection) and bad_meta.reason is RejectReason.INVALID_FIELD
    no_question = normalize(row.model_copy(update={"raw": dict(raw, question=None)}))
    assert isinstance(no_question, Rejection) and "question is missing" in no_question.detail


# ---------------------------------------------------------------- StepCoder items (hand-written)


STDIO_ITEM = {
    "prompt": '\ndef AbCdE():\n    """Read n and print $n \\cdot 2$.\n\n-----Input-----\nn\n    """\n',
    "canonical_solution": "import sys\ndef AbCdE():\n    n = int(input())\n    print(n * 2)\n",
    "inputs": ["2\r\n", "5\n"],
    "outputs": ["4\n", "10\n"],
    "starter_code": "\ndef AbCdE():\n",
    "scope": [["Function Body", 3, 4]],
    "difficulty": "introductory",
}
CALL_ITEM = {
    "prompt": "\nclass Solution:\n    def joinWords(self, words: List[str], sep: str) -> str:\n"
    '            """Join the words with sep."""\n',
    "canonical_solution": "class Solution:\n    def joinWords(self, words, sep):\n        return sep.join(words)\n",
    "inputs": [[["a", "b"], '"-"'], [[], '" "']],
    "outputs": [['"a-b"'], ['""']],
    "starter_code": "\nclass Solution:\n    def joinWords(self, words: List[str], sep: str) -> str:\n",
    "scope": [],
    "difficulty": "interview",
}


def stepcoder_row(item: dict, ordinal: int = 3) -> RawRow:
    return RawRow(
        source="stepcoder:x.json",
        format="stepcoder",
        locator=f"x.json:{ordinal}",
        ordinal=ordinal,
        split="train",
        raw=item,
    )


def test_stepcoder_stdio_item():
    problem = normalize(stepcoder_row(STDIO_ITEM))
    assert isinstance(problem, Problem)
    assert problem.problem_id == "stepcoder/train/0003" and problem.source_id is None
    assert problem.question == "Read n and print $n \\cdot 2$.\n\n-----Input-----\nn"
    assert problem.kind == "stdio" and problem.starter_code == ""
    assert problem.solutions == [STDIO_ITEM["canonical_solution"] + "AbCdE()\n"]
    assert problem.tests[0] == StdioTest(input="2\n", output="4\n")
    assert problem.provenance["scope"] == [["Function Body", 3, 4]]
    assert problem.provenance["stdio_wrapper"] == "AbCdE"


def test_stepcoder_call_item():
    problem = normalize(stepcoder_row(CALL_ITEM))
    assert isinstance(problem, Problem)
    assert problem.kind == "call" and problem.fn_name == "joinWords"
    assert problem.starter_code.startswith("class Solution:")
    assert problem.question == "Join the words with sep."
    assert [(t.args, t.expected, t.apps_list_quirk) for t in problem.tests] == [
        ([["a", "b"], "-"], "a-b", False),
        ([[], " "], "", False),
    ]
    assert problem.solutions == [CALL_ITEM["canonical_solution"]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"prompt": "def f():\n    pass\n"}, RejectReason.INVALID_FIELD),
        ({"difficulty": None}, RejectReason.INVALID_FIELD),
        ({"canonical_solution": 3}, RejectReason.INVALID_FIELD),
        ({"inputs": "x"}, RejectReason.MALFORMED_INPUT_OUTPUT),
        ({"outputs": [['"a-b"']]}, RejectReason.IO_LENGTH_MISMATCH),
        ({"inputs": [["not json"], [1]]}, RejectReason.MALFORMED_INPUT_OUTPUT),
        ({"inputs": ["x", "y"]}, RejectReason.MALFORMED_INPUT_OUTPUT),
    ],
)
def test_stepcoder_item_rejections(change, reason):
    result = normalize(stepcoder_row({**CALL_ITEM, **change}))
    assert isinstance(result, Rejection) and result.reason is reason, result
    assert result.problem_id == "stepcoder/train/0003"


def test_docstring_text_is_raw_not_evaluated():
    assert docstring_text('def f():\n    """a \\n b\\rightarrow"""\n') == "a \\n b\\rightarrow"
    assert docstring_text("def f():\n    '''x\n    '''") == "x"
    assert docstring_text("def f(): pass") is None


# ---------------------------------------------------------------- garbage in, accounting out

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
APPS_KEYS = [
    "problem_id",
    "id",
    "question",
    "solutions",
    "input_output",
    "difficulty",
    "url",
    "starter_code",
    "split",
    "problem_dir",
    "metadata",
]
STEPCODER_KEYS = [
    "prompt",
    "canonical_solution",
    "inputs",
    "outputs",
    "starter_code",
    "scope",
    "difficulty",
]


def json_text_of(values: st.SearchStrategy) -> st.SearchStrategy:
    return values.map(json.dumps)


FIELD_VALUES = (
    JSON_VALUES
    | json_text_of(JSON_VALUES)
    | st.sampled_from(
        ["", "[]", "{}", "train", "test", "interview", "competition", "0001", "[[", '"x"']
    )
    | st.builds(
        lambda ins, outs, fn: json.dumps(
            {"inputs": ins, "outputs": outs, **({"fn_name": fn} if fn else {})}
        ),
        st.lists(JSON_VALUES, max_size=3),
        st.lists(JSON_VALUES, max_size=3),
        st.none() | st.sampled_from(["f", "", "1x"]),
    )
)


@st.composite
def garbage_rows(draw) -> RawRow:
    fmt = draw(st.sampled_from(["apps_row", "apps_folder", "stepcoder"]))
    keys = APPS_KEYS if fmt != "stepcoder" else STEPCODER_KEYS
    raw = draw(
        st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), FIELD_VALUES, max_size=9)
    )
    split = draw(st.none() | st.sampled_from(["train", "test"]))
    ordinal = draw(st.integers(min_value=0, max_value=10**6))
    return RawRow(
        source="fuzz", format=fmt, locator=f"fuzz:{ordinal}", ordinal=ordinal, split=split, raw=raw
    )


def templates() -> list[RawRow]:
    """Valid rows of every format, for mutation."""
    folder_raw = {
        "problem_dir": "2100",
        "question": "Q",
        "solutions": json.dumps(["print(1)"]),
        "input_output": json.dumps({"inputs": ["\n"], "outputs": ["1\n"]}),
        "metadata": json.dumps({"difficulty": "competition", "url": "u"}),
        "starter_code": None,
    }
    return [
        apps_row(),
        apps_row(
            input_output=call_io([[1, [2]], ["s"]], [[3], [[4]]]), starter_code="def f(a, b):\n"
        ),
        RawRow(
            source="t",
            format="apps_folder",
            locator="train/2100",
            ordinal=0,
            split="train",
            raw=folder_raw,
        ),
        stepcoder_row(STDIO_ITEM),
        stepcoder_row(CALL_ITEM),
    ]


@st.composite
def mutated_rows(draw) -> RawRow:
    """A valid row with a few fields replaced by garbage or deleted: reaches the deep code paths."""
    row = draw(st.sampled_from(templates()))
    raw = dict(row.raw or {})
    for key in draw(st.lists(st.sampled_from(sorted(raw)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del raw[key]
        else:
            raw[key] = draw(FIELD_VALUES)
    return row.model_copy(update={"raw": raw})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage_rows() | mutated_rows())
def test_normalize_never_raises_on_garbage_rows(row):
    result = outcome(row)
    assert isinstance(result, (Problem, Rejection))
    if isinstance(result, Rejection):
        assert UNEXPECTED not in result.detail, result.detail
        assert result.locator == row.locator


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(
        st.binary(max_size=60)
        | st.builds(
            lambda d: json.dumps(d).encode(),
            st.dictionaries(st.sampled_from(APPS_KEYS), FIELD_VALUES),
        ),
        max_size=12,
    )
)
def test_reader_and_normalizer_account_for_every_line(lines, tmp_path_factory):
    lines = [re.sub(rb"[\r\n]", b" ", line) for line in lines]  # one row per line
    path = tmp_path_factory.mktemp("fuzz") / "train.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows = list(open_source(str(path)).iter_rows())
    assert len(rows) == sum(bool(line.strip()) for line in lines)
    problems = rejections = 0
    for row in rows:
        result = outcome(row)
        if isinstance(result, Problem):
            problems += 1
        else:
            rejections += 1
            assert UNEXPECTED not in result.detail, result.detail
    assert problems + rejections == len(rows)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_jsonl_reader_on_random_bytes(data):
    import io

    rows = list(iter_jsonl(io.BytesIO(data), source="fuzz", label="f", split=None))
    assert len(rows) == sum(bool(line.strip()) for line in io.BytesIO(data))
    for row in rows:
        assert isinstance(outcome(row), (Problem, Rejection))


# ---------------------------------------------------------------- real data


@needs_shared
def test_real_apps_folders():
    results = {
        r.locator: normalize(r) for r in open_source(str(SHARED_DATA / "apps" / "raw")).iter_rows()
    }
    expected = {
        "train/0001": ("interview", "stdio"),
        "train/0111": ("interview", "stdio"),
        "train/2287": ("competition", "stdio"),
        "train/2404": ("introductory", "call"),
        "train/4184": ("introductory", "call"),
        **{f"test/{i}": ("interview", "stdio") for i in ("0087", "0108", "0257", "0283", "0300")},
    }
    assert set(results) == set(expected)
    for locator, (difficulty, kind) in expected.items():
        problem = results[locator]
        assert isinstance(problem, Problem), problem
        assert (problem.difficulty, problem.kind) == (difficulty, kind), locator
        assert problem.problem_id == f"apps/{locator}"
        assert problem.tests and problem.solutions and apply_filters(problem) is None
    assert results["train/2404"].fn_name == "findKthPositive"
    assert results["train/4184"].fn_name == "is_prime"
    assert len(results["train/2404"].solutions) == 58
    assert (
        sum(len(results[f"test/{i}"].solutions) for i in ("0087", "0108", "0257", "0283", "0300"))
        == 104
    )


@needs_shared
def test_real_apps_rows_accounting():
    rows = list(open_source(str(SHARED_DATA / "apps" / "apps_rows.jsonl")).iter_rows())
    counts = Counter()
    for row in rows:
        result = outcome(row)
        assert row.raw is not None
        if row.raw["solutions"] == "":
            assert isinstance(result, Rejection) and result.reason is RejectReason.NO_SOLUTIONS
        else:
            assert isinstance(result, Problem), result
            assert result.difficulty == row.raw["difficulty"]
        counts["problem" if isinstance(result, Problem) else result.reason.value] += 1
    assert counts == {"problem": 63, "no_solutions": 243}
    assert sum(counts.values()) == len(rows) == 306


@needs_shared
def test_real_stepcoder_sample():
    path = SHARED_DATA / "apps-plus" / "stepcoder_apps_plus_sample.json"
    items = json.loads(path.read_text())
    results = [normalize(r) for r in open_source(f"stepcoder:{path}").iter_rows()]
    failures = [r for r in results if not isinstance(r, Problem)]
    assert not failures, failures
    assert all(apply_filters(p) is None for p in results)
    kinds = Counter(p.kind for p in results)
    assert kinds == {"stdio": 191, "call": 109}
    for item, problem in zip(items, results, strict=True):
        assert problem.kind == ("call" if isinstance(item["inputs"][0], list) else "stdio")
        assert problem.difficulty == item["difficulty"]
        assert len(problem.tests) == len(item["inputs"])
        if problem.kind == "call":
            assert problem.fn_name and f"def {problem.fn_name}" in item["starter_code"]
            assert all(
                not isinstance(a, str) or not a.startswith('"')
                for t in problem.tests
                for a in t.args
            )


@needs_shared
def test_real_stepcoder_questions_match_apps():
    """Items that are also in apps_rows.jsonl recover the APPS question exactly."""
    path = SHARED_DATA / "apps-plus" / "stepcoder_apps_plus_sample.json"
    apps = {
        json.loads(line)["question"]
        for line in (SHARED_DATA / "apps" / "apps_rows.jsonl").read_text().splitlines()
    }
    by_start = {q[:60]: q for q in apps}
    matched = 0
    for row in open_source(f"stepcoder:{path}").iter_rows():
        problem = normalize(row)
        assert isinstance(problem, Problem)
        twin = by_start.get(problem.question[:60])
        if twin is not None and twin[:200] == problem.question[:200]:
            matched += 1
            assert problem.question == twin
    assert matched >= 10
