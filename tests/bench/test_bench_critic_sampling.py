"""Critic sampling (`bench run --strategy critic-sampling`): the failure point, budgets,
public tests, feedback, ranking metrics, the critic file format, and a tiny-model run.

A stub critic with known token scores and a scripted model pin the bookkeeping exactly
(a random tiny model cannot be steered to pass or fail); the end-to-end tests use a real
tiny transformer and a real critic folder written by `appsplus.trainers.coderl`."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from appsplus.bench.backends import Backend, Completion, Request
from appsplus.bench.critic import ProgramScore
from appsplus.bench.critic_sampling import (
    CriticSamplingError,
    CSConfig,
    CSGeneration,
    build_cs_report,
    failure_point,
    feedback,
    public_tests,
    ranking,
    repair_prompt,
    run_critic_sampling,
)
from appsplus.bench.files import BenchProblem, ModelInfo, Sample, Sampling
from appsplus.bench.programs import assemble
from appsplus.bench.report import BootstrapInfo, tool_info
from appsplus.execution import CallTest, StdioTest, WorkerPool, run_tests

SAMPLING = Sampling(n=7, temperature=1.0, top_p=1.0, max_new_tokens=16, batch_size=4)


class LineCritic:
    """Stub critic: one token per line; p(pass) 0.2 on lines containing BUG, else 0.9;
    sequence p(pass) from `p_pass(program)` (0.5 unless given)."""

    def __init__(self, p_pass=lambda program: 0.5) -> None:
        self.p_pass = p_pass
        self.calls = 0

    def score(self, pairs):
        self.calls += len(pairs)
        out = []
        for _, program in pairs:
            lines = program.splitlines(keepends=True)
            starts = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
            out.append(
                ProgramScore(
                    token_starts=tuple(starts),
                    token_ends=tuple(s + len(x) for s, x in zip(starts, lines)),
                    token_p_pass=tuple(0.2 if "BUG" in x else 0.9 for x in lines),
                    p_pass=self.p_pass(program),
                    outcome="passed",
                )
            )
        return out


class ScriptedModel(Backend):
    """A model whose reply is `reply(request)`; records every request it is given."""

    def __init__(self, reply, chat: bool = False) -> None:
        self.reply = reply
        self.chat = chat
        self.requests: list[Request] = []

    def info(self) -> ModelInfo:
        return ModelInfo(backend="hf", model="scripted")

    def generate(self, requests, params, seed):
        self.requests += requests
        return [[Completion(self.reply(r), "stop") for _ in range(r.count)] for r in requests]


def stdio_problems(suite, k: int = 2) -> list[BenchProblem]:
    return [p for p in suite.problems if isinstance(p.tests[0], StdioTest)][:k]


def plain_samples(problems, n: int, program: str) -> list[Sample]:
    return [
        Sample(problem_id=p.problem_id, index=i, completion=program, program=program)
        for p in problems
        for i in range(n)
    ]


def config(**kw) -> CSConfig:
    base = dict(
        critic="stub", critic_fingerprint="stub-critic", budget=7, initial=2, rounds=3, enough=10
    )
    return CSConfig(**{**base, **kw})


# ---------------------------------------------------------------- pure pieces


def test_failure_point_is_the_first_token_with_the_highest_failure_probability():
    score = ProgramScore(
        token_starts=(0, 4, 9, 15, 20),
        token_ends=(4, 9, 15, 20, 26),
        token_p_pass=(0.9, 0.8, 0.2, 0.5, 0.2),
        p_pass=0.3,
        outcome="failed_test",
    )
    assert failure_point(score) == (2, 9)
    empty = ProgramScore((), (), (), 0.5, "passed")
    assert failure_point(empty) == (0, 0)


def test_public_tests_are_the_statement_examples_else_the_first_test():
    def problem(prompt, tests):
        return BenchProblem(
            problem_id="p",
            prompt=prompt,
            chat_prompt=prompt,
            assembly="apps",
            tests=tests,
            time_limit_s=1.0,
        )

    tests = [
        StdioTest(input="1 2\n", output="3\n"),
        StdioTest(input="10  20\n", output="30\n"),
        StdioTest(input="7 7\n", output="14\n"),
    ]
    shown = problem("Add.\nExample\nInput\n10 20\nOutput\n30\nANSWER:\n", tests)
    assert public_tests(shown) == ([1], True)
    # the output must follow the input: "3" before "1 2" does not count
    order = problem("3 is the answer for: 1 2\nANSWER:\n", tests)
    assert public_tests(order) == ([0], False)
    call = problem("Input: nums = [1]\n", [CallTest(fn_name="f", args=[[1]], expected=1)])
    assert public_tests(call) == ([0], False)


def test_feedback_names_input_expected_and_actual_output_or_the_error(pool):
    p = BenchProblem(
        problem_id="p",
        prompt="Double it.\nInput\n3\nOutput\n6\nANSWER:\n",
        chat_prompt="Double it.",
        assembly="apps",
        tests=[StdioTest(input="3\n", output="6\n"), StdioTest(input="5\n", output="10\n")],
        time_limit_s=2.0,
    )
    wrong = run_tests("print(int(input()) + 4)\n", p.tests[:1], pool=pool)
    assert feedback(p, [0], wrong) == "Input:\n3\nExpected output:\n6\nActual output:\n7"
    crash = run_tests("print(1 // 0)\n", p.tests[:1], pool=pool)
    text = feedback(p, [0], crash)
    assert text.startswith("Input:\n3\nExpected output:\n6\nError (runtime_error):\n")
    assert "ZeroDivisionError" in text
    broken = run_tests("def (:\n", p.tests[:1], pool=pool)
    assert feedback(p, [0], broken).startswith("The program does not compile:\nSyntaxError")
    ok = run_tests("print(int(input()) * 2)\n", p.tests[:1], pool=pool)
    assert feedback(p, [0], ok) is None
    prompt = repair_prompt(p, "print(7)\n", "FB", chat=False)
    assert prompt == p.prompt + "print(7)\nFEEDBACK:\nFB\nFix the program.\nANSWER:\n"
    assert "```python\nprint(7)\n```" in repair_prompt(p, "print(7)\n", "FB", chat=True)


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(1) as p:
        yield p


def test_ranking_puts_public_passes_first_then_the_critic_then_order():
    def row(i, public, p):
        return CSGeneration(
            problem_id="a",
            index=i,
            origin="sample",
            round=0,
            in_critic_sampling=True,
            completion=None,
            program="",
            public_passed=public,
            p_pass=p,
        )

    rows = [row(0, False, 0.9), row(1, True, 0.1), row(2, True, 0.7), row(3, False, 0.9)]
    assert [r.index for r in ranking(rows)] == [2, 1, 0, 3]


# ---------------------------------------------------------------- the procedure, exactly


def test_refine_keeps_the_program_before_the_critics_failure_point(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 1)
    parent = "n = int(input())\nBUG = 1\nprint(n)\n"
    model = ScriptedModel(lambda r: "print('continued')\n")
    rows = run_critic_sampling(
        problems,
        plain_samples(problems, 3, parent),
        model,
        LineCritic(),
        config(budget=3, initial=1, rounds=1, repair=False),
        SAMPLING,
        tmp_path,
        workers=1,
    )
    refined = [r for r in rows if r.origin == "refine"]
    assert len(refined) == 1  # one round, one round-0 failure, refine only
    assert [r.parent for r in refined] == [0]
    p = problems[0]
    request = model.requests[0]
    assert (request.text, request.prefix) == (p.prompt, "n = int(input())\n")
    assert refined[0].cut == len("n = int(input())\n")
    assert refined[0].completion == "n = int(input())\nprint('continued')\n"
    assert refined[0].program == assemble(p, refined[0].completion)


def test_refine_with_a_chat_model_opens_a_code_block(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 1)
    model = ScriptedModel(lambda r: "print(1)\n```\n", chat=True)
    rows = run_critic_sampling(
        problems,
        plain_samples(problems, 2, "x = 1\nBUG\n"),
        model,
        LineCritic(),
        config(budget=2, initial=1, rounds=1, repair=False),
        SAMPLING,
        tmp_path,
        workers=1,
    )
    assert model.requests[0].text == problems[0].chat_prompt
    assert model.requests[0].prefix == "```python\nx = 1\n"
    assert [r.program for r in rows if r.origin == "refine"] == ["x = 1\nprint(1)\n"]


def test_budget_bookkeeping_is_exact(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 2)
    model = ScriptedModel(lambda r: "print('still wrong')\n")
    critic = LineCritic()
    rows = run_critic_sampling(
        problems,
        plain_samples(problems, 7, "print('wrong')\n"),
        model,
        critic,
        config(),  # budget 7, 2 initial, 3 rounds, refine and repair
        SAMPLING,
        tmp_path,
        workers=1,
    )
    assert len(model.requests) == 2 * (7 - 2)
    for p in problems:
        mine = [r for r in rows if r.problem_id == p.problem_id]
        used = [r for r in mine if r.in_critic_sampling]
        assert len(used) == 7
        assert len(mine) == 7 + 5  # every plain sample is kept for the baselines
        assert Counter(r.origin for r in used) == {"sample": 2, "refine": 3, "repair": 2}
        extra = [(r.index, r.origin, r.round, r.parent) for r in used if r.origin != "sample"]
        assert extra == [
            (7, "refine", 1, 0),
            (8, "repair", 1, 0),
            (9, "refine", 1, 1),
            (10, "repair", 1, 1),
            (11, "refine", 2, 7),  # budget left for one more: the first round-1 failure
        ]
        assert [r.final for r in mine] == [False] * 11 + [True]
    assert critic.calls == 2 * 7 + 2 * 5  # every program scored once
    report = build_cs_report(
        problems=problems,
        rows=rows,
        passed={(r.problem_id, r.index): False for r in rows},
        config=config(),
        suite=sample_suite.info,
        model=model.info(),
        sampling=SAMPLING,
        tool=tool_info(),
        ks=[1, 5],
        boot=BootstrapInfo(resamples=100, confidence=0.95, seed=0),
    )
    assert report.budget.generated == {"sample": 4, "refine": 6, "repair": 4}
    assert report.budget.by_origin["repair"].model_dump() == {
        "generated": 4,
        "public_passed": 0,
        "hidden_passed": 0,
    }
    assert report.budget.mean_per_problem == 7
    assert report.budget.problems_under_budget == 0


def test_a_problem_stops_once_enough_programs_pass_its_public_tests(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 1)
    p = problems[0]
    fixed = p.canonical_solution
    model = ScriptedModel(lambda r: fixed if "FEEDBACK:" in r.text else "print('no')\n")
    rows = run_critic_sampling(
        problems,
        plain_samples(problems, 7, "print('wrong')\n"),
        model,
        LineCritic(),
        config(enough=1),
        SAMPLING,
        tmp_path,
        workers=1,
    )
    used = [r for r in rows if r.in_critic_sampling]
    assert [(r.origin, r.public_passed) for r in used if r.round == 1] == [
        ("refine", False),
        ("repair", True),
        ("refine", False),
        ("repair", True),
    ]
    assert len(used) == 6 and max(r.round for r in used) == 1  # under budget: 6 of 7
    assert "Expected output:" in model.requests[1].text  # the repair saw the test feedback


class SeededModel(ScriptedModel):
    """A ScriptedModel that also records the seed of every generate call."""

    def __init__(self, reply, chat: bool = False) -> None:
        super().__init__(reply, chat)
        self.calls: list[tuple[int, int]] = []  # (seed, requests in the call)

    def generate(self, requests, params, seed):
        self.calls.append((seed, len(requests)))
        return super().generate(requests, params, seed)


@pytest.mark.parametrize("chat", [False, True])
def test_stops_and_seeds_of_the_refine_and_repair_requests(chat, sample_suite, tmp_path):
    """A completion model stops at the suite's stops and --stop, a chat model at --stop only;
    each round's requests go in batches of --batch-size, seeded by the chunk's first problem,
    the round and the batch's start (so a redone chunk draws the same)."""
    from appsplus.bench.generate import batch_seed

    problems = stdio_problems(sample_suite, 2)
    sampling = SAMPLING.model_copy(update={"batch_size": 3, "extra_stop": ["# END"]})
    model = SeededModel(lambda r: "print('still wrong')\n", chat=chat)
    run_critic_sampling(
        problems,
        plain_samples(problems, 7, "print('wrong')\n"),
        model,
        LineCritic(),
        config(rounds=2),  # round 1: 2 x 4 requests; round 2: 2 x 1
        sampling,
        tmp_path,
        workers=1,
    )
    for request in model.requests:
        start = problems[0].chat_prompt if chat else problems[0].prompt
        p = problems[0] if request.text.startswith(start) else problems[1]
        expected = ("# END",) if chat else (*p.stop, "# END")
        assert tuple(request.stop) == expected
    first = problems[0].problem_id
    seeds = [batch_seed(0, f"{first}\0cs\0{r}", start) for r, start in
             [(1, 0), (1, 3), (1, 6), (2, 0)]]  # fmt: skip
    assert model.calls == list(zip(seeds, [3, 3, 2, 2]))


@pytest.mark.parametrize("chat", [False, True])
def test_refine_and_repair_requests_keep_the_problems_system_message(chat, sample_suite, tmp_path):
    """A suite whose problems carry a system message (livecodebench): a chat model's refine
    and repair requests send it as the first round's generation did; a completion model
    gets none (its prompt is plain text)."""
    system = "You are an expert Python programmer."
    problems = [
        p.model_copy(update={"system_prompt": system}) for p in stdio_problems(sample_suite, 2)
    ]
    model = ScriptedModel(lambda r: "print('still wrong')\n", chat=chat)
    run_critic_sampling(
        problems,
        plain_samples(problems, 7, "x = 1\nBUG\n"),
        model,
        LineCritic(),
        config(rounds=2),
        SAMPLING,
        tmp_path,
        workers=1,
    )
    assert model.requests and {r.prefix != "" for r in model.requests} == {True, False}
    assert {r.system for r in model.requests} == ({system} if chat else {None})


def test_fewer_plain_samples_than_the_budget_is_refused(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 1)
    with pytest.raises(CriticSamplingError, match="3 plain samples, the budget is 7"):
        run_critic_sampling(
            problems,
            plain_samples(problems, 3, "print(0)\n"),
            ScriptedModel(lambda r: "x\n"),
            LineCritic(),
            config(),
            SAMPLING,
            tmp_path,
            workers=1,
        )


def test_a_resumed_folder_with_other_settings_is_refused(sample_suite, tmp_path):
    problems = stdio_problems(sample_suite, 1)
    args = (problems, plain_samples(problems, 7, "print(0)\n"), ScriptedModel(lambda r: "x\n"))
    run_critic_sampling(*args, LineCritic(), config(), SAMPLING, tmp_path, workers=1)
    with pytest.raises(CriticSamplingError, match="rounds"):
        run_critic_sampling(*args, LineCritic(), config(rounds=1), SAMPLING, tmp_path, workers=1)


# ---------------------------------------------------------------- metrics


def test_report_metrics_on_hand_computed_rows(sample_suite):
    a, b = stdio_problems(sample_suite, 2)

    def row(p, i, origin, public, p_pass, in_cs=True):
        return CSGeneration(
            problem_id=p.problem_id,
            index=i,
            origin=origin,
            round=0 if origin == "sample" else 1,
            parent=None if origin == "sample" else 0,
            in_critic_sampling=in_cs,
            completion=None,
            program=f"# {i}",
            public_passed=public,
            p_pass=p_pass,
        )

    rows = [
        row(a, 0, "sample", False, 0.5),
        row(a, 1, "sample", False, 0.9, False),
        row(a, 2, "sample", True, 0.1, False),
        row(a, 3, "sample", False, 0.2, False),
        row(a, 4, "refine", False, 0.8),
        row(a, 5, "repair", True, 0.3),
        row(a, 6, "refine", False, 0.1),
        *[row(b, i, "sample", False, 0.5, i == 0) for i in range(4)],
        *[row(b, i, "refine", False, 0.5) for i in (4, 5, 6)],
    ]
    hidden = {(a.problem_id, 2), (a.problem_id, 4)}
    passed = {(r.problem_id, r.index): (r.problem_id, r.index) in hidden for r in rows}
    cfg = config(budget=4, initial=1, rounds=1)
    report = build_cs_report(
        problems=[a, b],
        rows=rows,
        passed=passed,
        config=cfg,
        suite=sample_suite.info,
        model=ModelInfo(backend="hf", model="m"),
        sampling=SAMPLING,
        tool=tool_info(),
        ks=[1, 2, 4],
        boot=BootstrapInfo(resamples=200, confidence=0.95, seed=0),
    )
    m = report.overall.methods
    # a: plain samples [F, F, T, F], 1 of 4 passes; b: nothing passes
    assert m["sampling"]["pass@1"].value == pytest.approx(0.25 / 2)
    assert m["sampling"]["pass@2"].value == pytest.approx(0.5 / 2)
    assert m["sampling"]["pass@4"].value == pytest.approx(1 / 2)
    # ranked plain: index 2 passes the public tests, so it is submitted first
    assert [m["sampling+ranking"][f"pass@{k}"].value for k in (1, 2, 4)] == [0.5, 0.5, 0.5]
    # critic sampling on a: ranking 5 (public), 4 (0.8), 0 (0.5), 6 -> index 4 second
    assert [m["critic-sampling"][f"pass@{k}"].value for k in (1, 2, 4)] == [0.0, 0.5, 0.5]
    gain = report.overall.gain["vs sampling"]["pass@1"]
    assert gain.value == pytest.approx(-0.125)
    assert report.problems[0].first_passing_rank == 2
    assert report.problems[0].plain_first_passing_rank == 1
    assert report.public_tests.precision == 0.0  # the one public pass (index 5) fails hidden
    assert report.overall.coverage == {"sampling": 0.5, "critic-sampling": 0.5}
    origins = {
        o: (st.generated, st.public_passed, st.hidden_passed)
        for o, st in report.budget.by_origin.items()
    }
    assert origins == {"sample": (2, 0, 0), "refine": (5, 0, 1), "repair": (1, 1, 0)}


# ---------------------------------------------------------------- the critic folder


def test_the_critic_written_by_the_trainer_scores_the_same_in_bench(tiny_model, tmp_path):
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer

    from appsplus.bench.critic import load_critic
    from appsplus.trainers.coderl import build_critic, collate, encode, save_critic

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    trained = build_critic(str(tiny_model))
    torch.manual_seed(1)
    torch.nn.init.normal_(trained.head.weight, std=0.5)  # a head that says something
    save_critic(trained, tmp_path / "critic", tokenizer)
    critic = load_critic(tmp_path / "critic", device="cpu")
    prompt, program = "QUESTION:\nDouble.\nANSWER:\n", "n = int(input())\nprint(n * 2)\n"
    [score] = critic.score([(prompt, program)])
    ids, n_prompt = encode(tokenizer, prompt, program, 1024)
    batch = collate([(ids, n_prompt)], tokenizer.pad_token_id)
    with torch.no_grad():
        logits = trained(batch[0], batch[1])[0, n_prompt:]  # [T + 1, 4]
    expected = logits[:-1].softmax(-1)[:, 3].tolist()
    assert score.token_p_pass == pytest.approx(expected, abs=1e-5)
    assert score.p_pass == pytest.approx(float(logits.max(0).values.softmax(-1)[3]), abs=1e-5)
    pieces = [program[a:b] for a, b in zip(score.token_starts, score.token_ends)]
    assert "".join(pieces) == program  # offsets cover the program token by token


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_critic(tiny_model, tmp_path_factory):
    pytest.importorskip("torch")
    from transformers import AutoTokenizer

    from appsplus.trainers.coderl import build_critic, save_critic

    folder = tmp_path_factory.mktemp("critic") / "critic"
    save_critic(build_critic(str(tiny_model)), folder, AutoTokenizer.from_pretrained(tiny_model))
    return folder


def test_bench_run_critic_sampling_end_to_end_and_resume(
    tiny_model,
    tiny_critic,
    tmp_path,
    bench_cache,
):
    from appsplus.bench.cli import main as bench

    out = tmp_path / "run"
    args = [
        "run",
        "--model",
        str(tiny_model),
        "--suite",
        "sample",
        "--limit",
        "3",
        "--n",
        "4",
        "--k",
        "1,2",
        "--max-new-tokens",
        "12",
        "--strategy",
        "critic-sampling",
        "--critic",
        str(tiny_critic),
        "--out",
        str(out),
    ]
    first = CliRunner().invoke(bench, args)
    assert first.exit_code == 0, first.output
    assert "gain vs sampling+ranking" in first.output
    generations = out / "critic_sampling" / "generations.jsonl"
    rows = [json.loads(line) for line in generations.read_text().splitlines()]
    report = json.loads((out / "critic_sampling" / "report.json").read_text())
    assert report["budget"]["budget"] == 4 and report["overall"]["n_problems"] == 3
    assert sum(report["budget"]["generated"].values()) == sum(r["in_critic_sampling"] for r in rows)
    assert (
        report["suite"]["dataset_hash"]
        == json.loads((out / "run.json").read_text())["suite"]["dataset_hash"]
    )
    assert set(report["overall"]["methods"]) == {"sampling", "sampling+ranking", "critic-sampling"}
    plain = json.loads((out / "report.json").read_text())
    assert (
        report["overall"]["methods"]["sampling"]["pass@1"]["value"]
        == plain["overall"]["pass_at_k"]["pass@1"]["value"]
    )

    # an interrupted critic-sampling stage (last problem unfinished) is redone identically
    text = generations.read_text()
    generations.write_text("".join(text.splitlines(keepends=True)[:-2]))
    again = CliRunner().invoke(bench, args)
    assert again.exit_code == 0, again.output
    assert generations.read_text() == text
    assert json.loads((out / "critic_sampling" / "report.json").read_text()) == report

    refused = CliRunner().invoke(bench, [*args[:-2], "--cs-rounds", "1", "--out", str(out)])
    assert refused.exit_code != 0 and "rounds" in refused.output

    shown = CliRunner().invoke(bench, ["report", "--out", str(out), "--k", "1,2", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["strategy"]["initial"] == 1


def test_critic_sampling_usage_errors(tiny_model, tiny_critic, tmp_path):
    from appsplus.bench.cli import main as bench

    base = ["run", "--model", str(tiny_model), "--n", "2", "--out", str(tmp_path / "o")]
    no_critic = CliRunner().invoke(
        bench, [*base, "--suite", "sample", "--strategy", "critic-sampling"]
    )
    assert no_critic.exit_code != 0 and "--critic" in no_critic.output
    humaneval = CliRunner().invoke(
        bench,
        [
            *base,
            "--suite",
            "humaneval",
            "--strategy",
            "critic-sampling",
            "--critic",
            str(tiny_critic),
        ],
    )
    assert humaneval.exit_code != 0 and "APPS-style" in humaneval.output
    not_a_critic = CliRunner().invoke(
        bench,
        [*base, "--suite", "sample", "--strategy", "critic-sampling", "--critic", str(tmp_path)],
    )
    assert not_a_critic.exit_code != 0
    stray = CliRunner().invoke(bench, [*base, "--suite", "sample", "--critic", str(tiny_critic)])
    assert stray.exit_code != 0 and "only used with" in stray.output
