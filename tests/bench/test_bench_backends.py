"""Backends: openai (against a local HTTP server), vllm (absent, and a stand-in module), hf (tiny model)."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from appsplus.bench.backends import (
    BackendError,
    BackendUnavailable,
    Request,
    SamplingParams,
    open_backend,
)
from appsplus.bench.backends.openai import OpenAIBackend
from appsplus.bench.files import BenchProblem, Sampling
from appsplus.bench.generate import generate_samples, plan_batches

PARAMS = SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=32)


# ---------------------------------------------------------------- openai


def test_openai_completions_payload_and_stop(fake_openai):
    server = fake_openai(lambda p: [f"print({i})\nQUESTION:\nmore" for i in range(p["n"])])
    backend = OpenAIBackend("served-model", base_url=server.base_url + "/")
    out = backend.generate(
        [Request("prompt A", 2, ("\nQUESTION:",)), Request("prompt B", 3, ("\nQUESTION:",))],
        PARAMS,
        seed=7,
    )
    assert [[c.text for c in cs] for cs in out] == [
        ["print(0)", "print(1)"],
        ["print(0)", "print(1)", "print(2)"],
    ]
    assert all(c.finish_reason == "stop" for cs in out for c in cs)
    payloads = sorted((p for _, p in server.requests), key=lambda p: p["prompt"])
    assert {path for path, _ in server.requests} == {"/v1/completions"}
    assert payloads[0] == {
        "model": "served-model",
        "n": 2,
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 32,
        "seed": 7,
        "stop": ["\nQUESTION:"],
        "prompt": "prompt A",
    }
    assert payloads[1]["seed"] == 8  # one seed per request of a batch
    info = backend.info()
    assert (info.backend, info.model, info.base_url) == ("openai", "served-model", server.base_url)


def test_openai_prefix_is_continued_and_refused_by_a_chat_endpoint(fake_openai):
    server = fake_openai(lambda p: ["rest\n"] * p["n"])
    backend = OpenAIBackend("m", base_url=server.base_url)
    out = backend.generate([Request("ANSWER:\n", 1, prefix="n = 1\n")], PARAMS, seed=1)
    assert [c.text for c in out[0]] == ["rest\n"]  # only the continuation comes back
    assert server.requests[0][1]["prompt"] == "ANSWER:\nn = 1\n"
    chat = OpenAIBackend("m", base_url=server.base_url, chat=True)
    with pytest.raises(BackendError, match="cannot continue"):
        chat.generate([Request("solve it", 1, prefix="n = 1\n")], PARAMS, seed=1)


def test_openai_chat_endpoint(fake_openai):
    server = fake_openai(lambda p: ["```python\nprint(1)\n```"] * p["n"])
    backend = OpenAIBackend("m", base_url=server.base_url, chat=True)
    out = backend.generate([Request("solve it", 2)], PARAMS, seed=1)
    assert [c.text for c in out[0]] == ["```python\nprint(1)\n```"] * 2
    path, payload = server.requests[0]
    assert path == "/v1/chat/completions"
    assert payload["messages"] == [{"role": "user", "content": "solve it"}]


def test_openai_retries_transient_errors_then_fails_clearly(fake_openai):
    server = fake_openai(lambda p: ["x"] * p["n"])
    backend = OpenAIBackend("m", base_url=server.base_url, retries=2, retry_delay_s=0.01)
    server.fail_next = 2
    assert backend.generate([Request("p", 1)], PARAMS, seed=0)[0][0].text == "x"
    assert len(server.requests) == 3
    server.fail_next = 5
    with pytest.raises(BackendError, match="HTTP 503"):
        backend.generate([Request("p", 1)], PARAMS, seed=0)


def test_openai_wrong_number_of_choices_and_unreachable_server(fake_openai):
    server = fake_openai(lambda p: ["only one"])
    backend = OpenAIBackend("m", base_url=server.base_url)
    with pytest.raises(BackendError, match="1 choices for n=2"):
        backend.generate([Request("p", 2)], PARAMS, seed=0)
    dead = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", retries=0, timeout_s=2)
    with pytest.raises(BackendError):
        dead.generate([Request("p", 1)], PARAMS, seed=0)
    with pytest.raises(BackendError, match="--base-url"):
        open_backend("openai", "m")


# ---------------------------------------------------------------- vllm


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_missing_gives_a_clear_error():
    with pytest.raises(BackendUnavailable, match="pip install vllm"):
        open_backend("vllm", "some/model")


def test_vllm_backend_with_a_stand_in_module(monkeypatch):
    calls = {}

    class SamplingParamsStub:
        def __init__(self, **kwargs):
            self.__dict__.update(kwargs)

    class Tokenizer:
        chat_template = None

    class LLM:
        def __init__(self, **kwargs):
            calls["init"] = kwargs

        def get_tokenizer(self):
            return Tokenizer()

        def generate(self, prompts, params, use_tqdm=False):
            calls["generate"] = (prompts, params)
            return [
                types.SimpleNamespace(
                    outputs=[
                        types.SimpleNamespace(text=f"{p}-{i}\nSTOP", finish_reason="length")
                        for i in range(sp.n)
                    ]
                )
                for p, sp in zip(prompts, params)
            ]

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParamsStub
    monkeypatch.setitem(sys.modules, "vllm", fake)
    backend = open_backend("vllm", "org/model", revision="abc")
    requests = [Request("a", 2, ("\nSTOP",)), Request("b", 1, prefix="+p")]
    out = backend.generate(requests, PARAMS, seed=10)
    assert [[c.text for c in cs] for cs in out] == [["a-0", "a-1"], ["b+p-0\nSTOP"]]
    assert [[c.finish_reason for c in cs] for cs in out] == [["stop", "stop"], ["length"]]
    prompts, params = calls["generate"]
    assert prompts == ["a", "b+p"]
    assert [(p.n, p.seed, p.temperature, p.top_p, p.max_tokens) for p in params] == [
        (2, 10, 0.7, 0.9, 32),
        (1, 11, 0.7, 0.9, 32),
    ]
    assert calls["init"]["model"] == "org/model" and calls["init"]["revision"] == "abc"
    assert backend.info().revision == "abc" and not backend.chat


# ---------------------------------------------------------------- hf (tiny local model)


def test_hf_generation_is_seeded_batched_and_stops(tiny_model):
    backend = open_backend("hf", str(tiny_model), device="cpu")
    assert not backend.chat
    requests = [Request("QUESTION:\nadd\nANSWER:\n", 3), Request("def f(x):", 2, ("\n",))]
    a = backend.generate(requests, SamplingParams(0.8, 0.95, 12), seed=5)
    b = backend.generate(requests, SamplingParams(0.8, 0.95, 12), seed=5)
    c = backend.generate(requests, SamplingParams(0.8, 0.95, 12), seed=6)
    assert [len(x) for x in a] == [3, 2]
    assert a == b and a != c
    assert all("\n" not in x.text for x in a[1])  # cut at its stop sequence
    assert {x.finish_reason for xs in a for x in xs} <= {"stop", "length"}
    greedy = backend.generate([Request("def f", 2)], SamplingParams(0.0, 1.0, 8), seed=1)
    assert greedy[0][0] == greedy[0][1]
    # a prefix is continued exactly as if it ended the prompt; only the continuation returns
    text, prefix = "QUESTION:\nadd\nANSWER:\n", "n = int(input())\n"
    greedy = SamplingParams(0.0, 1.0, 8)
    with_prefix = backend.generate([Request(text, 1, prefix=prefix)], greedy, seed=1)
    as_prompt = backend.generate([Request(text + prefix, 1)], greedy, seed=1)
    assert with_prefix == as_prompt
    info = backend.info()
    assert info.backend == "hf" and info.config_sha256 and info.weights_fingerprint
    backend.close()


def test_hf_chat_template_is_used_when_present(tiny_chat_model):
    backend = open_backend("hf", str(tiny_chat_model), device="cpu")
    assert backend.chat and backend.info().chat_template
    assert backend._format("hi") == "<|user|>\nhi\n<|assistant|>\n"
    assert len(backend.generate([Request("hi", 2)], PARAMS, seed=0)[0]) == 2
    plain = open_backend("hf", str(tiny_chat_model), device="cpu", chat=False)
    assert not plain.chat and plain._format("hi") == "hi"


def test_hf_asking_for_a_missing_chat_template_fails(tiny_model):
    with pytest.raises(BackendError, match="chat-template"):
        open_backend("hf", str(tiny_model), device="cpu", chat=True)
    with pytest.raises(BackendError, match="cannot load"):
        open_backend("hf", str(tiny_model / "missing"), device="cpu")


# ---------------------------------------------------------------- generation resume


class Interrupted(Exception):
    pass


class FlakyBackend:
    """Wraps a backend; raises after `fail_after` generate calls (a crash mid-run)."""

    def __init__(self, backend, fail_after: int) -> None:
        self.backend, self.left, self.chat = backend, fail_after, backend.chat

    def generate(self, requests, params, seed):
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return self.backend.generate(requests, params, seed)


def _problems(k: int) -> list[BenchProblem]:
    from appsplus.execution import StdioTest

    return [
        BenchProblem(
            problem_id=f"p{i}",
            prompt=f"QUESTION:\nproblem {i}\nANSWER:\n",
            chat_prompt="-",
            assembly="apps",
            tests=[StdioTest(input="", output="")],
            time_limit_s=1,
        )
        for i in range(k)
    ]


def test_plan_batches_depends_only_on_its_arguments():
    assert [[(c.problem, c.start, c.count) for c in b] for b in plan_batches(3, 2, 4)] == [
        [(0, 0, 2), (1, 0, 2)],
        [(2, 0, 2)],
    ]
    assert [[(c.problem, c.start, c.count) for c in b] for b in plan_batches(2, 5, 2)] == [
        [(0, 0, 2)],
        [(0, 2, 2)],
        [(0, 4, 1)],
        [(1, 0, 2)],
        [(1, 2, 2)],
        [(1, 4, 1)],
    ]


def test_interrupted_generation_resumes_to_the_same_samples(tiny_model, tmp_path):
    backend = open_backend("hf", str(tiny_model), device="cpu")
    problems = _problems(3)
    sampling = Sampling(n=3, temperature=0.9, top_p=0.95, max_new_tokens=10, batch_size=2)
    whole = tmp_path / "whole.jsonl"
    assert generate_samples(problems, backend, sampling, whole) == 9
    resumed = tmp_path / "resumed.jsonl"
    with pytest.raises(Interrupted):
        generate_samples(problems, FlakyBackend(backend, 2), sampling, resumed)
    lines = resumed.read_bytes().splitlines(keepends=True)
    assert 0 < len(lines) < 9
    # a crash in the middle of a write leaves a partial line: it is dropped and redone
    resumed.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    assert generate_samples(problems, backend, sampling, resumed) == 9 - (len(lines) - 1)
    assert sorted(resumed.read_bytes().splitlines()) == sorted(whole.read_bytes().splitlines())
    assert generate_samples(problems, backend, sampling, resumed) == 0  # nothing left to do
