"""A problem's system message (livecodebench): sent as a system turn by the hf backend (tiny
local models whose chat templates render, reject or drop a system role), by the openai
backend (a local server), recorded in run.json; base models get LiveCodeBench's one-shot
prompt with --lcb-examples; files of suites without a system message are unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_lcb_prompts import EXAMPLES, QUESTION, STDIN_ONE_SHOT, SYSTEM, fixture_file

from appsplus.bench import api
from appsplus.bench.backends import Request, SamplingParams, open_backend
from appsplus.bench.backends.openai import OpenAIBackend
from appsplus.bench.cli import main as bench
from appsplus.bench.files import BenchProblem, ModelInfo, Sampling
from appsplus.bench.generate import generate_samples
from appsplus.bench.suites import load_suite
from appsplus.execution import StdioTest

# tests/conftest.py's CHAT_TEMPLATE renders every role; these reject or silently drop a system one
REJECTS_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
DROPS_SYSTEM = (
    "{% for m in messages %}{% if m['role'] != 'system' %}"
    "<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
GREEDY = SamplingParams(temperature=0, top_p=1, max_new_tokens=3)


def with_template(model: Path, root: Path, template: str) -> Path:
    """A copy of a tiny model whose tokenizer has `template` as its chat template."""
    copy = root / f"model-{abs(hash(template))}"
    shutil.copytree(model, copy)
    jinja = copy / "chat_template.jinja"
    if jinja.is_file():
        jinja.write_text(template)
    else:
        config = copy / "tokenizer_config.json"
        data = json.loads(config.read_text())
        data["chat_template"] = template
        config.write_text(json.dumps(data))
    return copy


@pytest.fixture
def lcb(tmp_path):
    """The fixture questions of test_lcb_prompts (s1: stdin, f1: functional), by id."""
    return {
        p.problem_id: p for p in load_suite("livecodebench", str(fixture_file(tmp_path))).problems
    }


def request(problem: BenchProblem) -> Request:
    return Request(text=problem.chat_prompt, count=1, system=problem.system_prompt)


def test_hf_sends_the_system_turn_of_a_template_that_renders_it(tiny_chat_model, lcb):
    backend = open_backend("hf", str(tiny_chat_model), device="cpu")
    try:
        assert backend.chat and backend.system_turn
        p = lcb["s1"]
        text = backend._format(request(p))
        assert text == f"<|system|>\n{SYSTEM}\n<|user|>\n{p.chat_prompt}\n<|assistant|>\n"
        assert f"### Question:\n{QUESTION}\n\n" in text
        # LiveCodeBench's OpenAIChat messages, rendered by the same template
        assert text == backend.tokenizer.apply_chat_template(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": p.chat_prompt}],
            tokenize=False,
            add_generation_prompt=True,
        )
        # a problem without a system message is one user turn, as before
        assert backend._format(Request(text="hi", count=1)) == "<|user|>\nhi\n<|assistant|>\n"
        assert len(backend.generate([request(p)], GREEDY, seed=0)[0]) == 1
    finally:
        backend.close()


@pytest.mark.parametrize("template", [REJECTS_SYSTEM, DROPS_SYSTEM], ids=["rejects", "drops"])
def test_a_template_without_a_system_role_gets_one_user_message(
    tiny_chat_model, tmp_path, lcb, template
):
    model = with_template(tiny_chat_model, tmp_path, template)
    backend = open_backend("hf", str(model), device="cpu")
    try:
        assert backend.chat and not backend.system_turn
        p = lcb["f1"]
        assert backend._format(request(p)) == (
            f"<|user|>\n{SYSTEM}\n\n{p.chat_prompt}\n<|assistant|>\n"
        )
        assert len(backend.generate([request(p)], GREEDY, seed=0)[0]) == 1
    finally:
        backend.close()


def run_json(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


def test_run_json_says_whether_the_system_turn_was_sent(tiny_chat_model, tmp_path):
    dataset = str(fixture_file(tmp_path))
    suite = api.SuiteSpec(name="livecodebench", dataset=dataset)
    sampling = api.SamplingSpec(n=1, temperature=0, max_new_tokens=3)
    rejecting = with_template(tiny_chat_model, tmp_path, REJECTS_SYSTEM)
    for model, sent in ((tiny_chat_model, True), (rejecting, False)):
        out = tmp_path / f"run-{sent}"
        api.generate(out, suite, api.ModelSpec(model=str(model), device="cpu"), sampling)
        config = run_json(out)
        assert config["model"]["chat_template"] is True
        assert config["model"]["system_turn"] is sent
        assert config["suite"]["prompt_version"] == "livecodebench-3"
        problems = [json.loads(line) for line in (out / "problems.jsonl").read_text().splitlines()]
        assert {p["system_prompt"] for p in problems} == {SYSTEM}
        assert len((out / "samples.jsonl").read_text().splitlines()) == 2
    # `bench run` (generate, evaluate, report): the report says it too
    out = tmp_path / "run-report"
    model = api.ModelSpec(model=str(rejecting), device="cpu")
    api.run(api.RunSpec(out=out, suite=suite, model=model, sampling=sampling, ks=[1]))
    report = json.loads((out / "report.json").read_text())
    assert report["model"]["system_turn"] is False
    assert report["suite"]["prompt_version"] == "livecodebench-3"


@pytest.fixture
def openai_out(tmp_path):
    return tmp_path / "samples.jsonl"


def test_openai_chat_messages_of_a_generation(fake_openai, lcb, openai_out):
    server = fake_openai(lambda payload: ["```python\nprint(1)\n```"] * payload["n"])
    backend = OpenAIBackend("served", base_url=server.base_url, chat=True)
    problems = [lcb["s1"], lcb["f1"]]
    sampling = Sampling(n=1, temperature=0, top_p=1, max_new_tokens=8, batch_size=2)
    assert generate_samples(problems, backend, sampling, openai_out) == 2
    sent = sorted(
        (payload["messages"] for path, payload in server.requests),
        key=lambda m: m[1]["content"] != problems[0].chat_prompt,
    )
    assert all(path.endswith("/chat/completions") for path, _ in server.requests)
    assert sent == [
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": p.chat_prompt}]
        for p in problems
    ]


def test_base_model_with_lcb_examples_gets_the_one_shot_prompt(tiny_model, tmp_path):
    dataset = str(fixture_file(tmp_path))
    common = ["generate", "--model", str(tiny_model), "--suite", "livecodebench"]
    common += ["--dataset", dataset, "--n", "1", "--temperature", "0", "--max-new-tokens", "3"]
    for examples, out in ((EXAMPLES, tmp_path / "one-shot"), (None, tmp_path / "plain")):
        extra = ["--lcb-examples", str(examples)] if examples else []
        result = CliRunner().invoke(bench, [*common, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
        config = run_json(out)
        problems = {
            p["problem_id"]: p
            for p in map(json.loads, (out / "problems.jsonl").read_text().splitlines())
        }
        assert config["model"]["chat_template"] is False and "system_turn" not in config["model"]
        if examples:
            assert problems["s1"]["prompt"] == STDIN_ONE_SHOT and problems["s1"]["stop"] == ["###"]
            assert config["suite"]["prompt_version"].startswith("livecodebench-3+oneshot-")
            assert "one-shot prompt" in config["suite"]["description"]
        else:
            assert problems["s1"]["prompt"].endswith("```python\n")
            assert config["suite"]["prompt_version"] == "livecodebench-3"
            assert "no --lcb-examples" in config["suite"]["description"]
    help_text = CliRunner().invoke(bench, ["generate", "--help"]).output
    assert "--lcb-examples" in help_text and "one-shot" in help_text


def test_files_without_a_system_message_are_unchanged():
    """problems.jsonl and run.json of other suites keep their bytes (no null fields added)."""
    problem = BenchProblem(
        problem_id="p",
        prompt="x",
        chat_prompt="y",
        assembly="apps",
        tests=[StdioTest(input="", output="1\n")],
        time_limit_s=1,
    )
    assert "system_prompt" not in problem.model_dump_json()
    assert "system_prompt" not in problem.model_dump(mode="json")
    info = ModelInfo(backend="hf", model="m", chat_template=True)
    assert "system_turn" not in info.model_dump_json()
    # and read back, the fields are None; set, they are written
    assert BenchProblem.model_validate_json(problem.model_dump_json()).system_prompt is None
    with_system = problem.model_copy(update={"system_prompt": "S"})
    assert json.loads(with_system.model_dump_json())["system_prompt"] == "S"
    assert (
        json.loads(info.model_copy(update={"system_turn": False}).model_dump_json())["system_turn"]
        is False
    )
