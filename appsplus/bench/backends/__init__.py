"""Generation backends: `hf` (transformers), `vllm`, `openai` (an OpenAI-compatible server).

    backend = open_backend("hf", "path/to/model", chat=None)
    completions = backend.generate([Request(text=prompt, count=4, stop=["\\ndef"])], params, seed=1)

A backend turns requests (a prompt text, how many samples, stop sequences) into raw
completions. When `backend.chat` is set, the text is a user message that the backend
wraps in the model's chat template (or sends to a chat endpoint), after the request's
`system` message as a system turn when it has one; a chat template that rejects a system
role (`backend.system_turn` False) gets one user message, the system message + a blank
line + the text. Heavy libraries are imported only when a backend is opened.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from appsplus.bench.files import ModelInfo
from appsplus.errors import AppsplusError

BACKENDS = ("hf", "vllm", "openai")
NEEDS = {
    "hf": (
        ("torch", "transformers"),
        "the hf backend needs torch and transformers: pip install -e '.[train]'",
    ),
    "vllm": (
        ("vllm",),
        "the vllm backend needs vLLM, which is not installed: `pip install "
        "vllm` on a CUDA machine, or use --backend hf (transformers) or --backend openai "
        "(a running vLLM/TGI server)",
    ),
    "openai": ((), ""),
}


class BackendError(AppsplusError, RuntimeError):
    """A backend cannot be opened or failed to generate; the message says why."""


class BackendUnavailable(BackendError):
    """The backend's library is not installed."""


@dataclass(frozen=True)
class Request:
    """`count` samples for one prompt; generation stops at any of `stop` (also cut afterwards).

    `prefix` is the given start of the answer: the model continues the formatted prompt
    followed by `prefix` (after the chat template's generation prompt for chat models), and
    the completions hold only the continuation (critic sampling's refine step uses it).
    """

    text: str
    count: int
    stop: tuple[str, ...] = ()
    prefix: str = ""
    system: str | None = None  # chat: a system turn before the user message `text`


@dataclass(frozen=True)
class Completion:
    """One generated text and why it ended ('stop', 'length', or None when unknown)."""

    text: str
    finish_reason: str | None = None


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings shared by every backend (temperature 0 means greedy)."""

    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 1024


class Backend(ABC):
    """Generates completions; `chat` says whether prompts are sent as chat messages."""

    chat: bool = False
    system_turn: bool = True  # chat: whether the template takes a system role

    @abstractmethod
    def info(self) -> ModelInfo:
        """What produced the samples (model id, revision, hashes), for run.json and the report."""

    @abstractmethod
    def generate(
        self, requests: list[Request], params: SamplingParams, seed: int
    ) -> list[list[Completion]]:
        """`requests[i].count` completions for each request, in order; deterministic given `seed`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model or connections."""


def check_installed(kind: str) -> None:
    """Raise BackendUnavailable at once when backend `kind`'s libraries are not installed."""
    if kind not in NEEDS:
        raise BackendError(f"unknown backend {kind!r}; choose one of {', '.join(BACKENDS)}")
    modules, message = NEEDS[kind]
    if any(importlib.util.find_spec(m) is None for m in modules):
        raise BackendUnavailable(message)


def _hub_id(model: str) -> bool:
    """Whether `model` is spelled like a hub repo id (`name` or `owner/name`)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        return False
    return True


def locate_model(model: str, revision: str | None = None, *, hub: bool = True) -> bool:
    """Check that a hf/vllm `model` can be loaded, before loading anything; True when it must
    come from the local hub cache (the hub is unreachable but a copy is cached).

    A local folder must exist; a hub id needs the hub (a quick probe, so an offline machine
    fails at once instead of after the HTTP client's retries) or a cached copy. `hub=False`
    checks only what needs no network (a path that is no folder).
    """
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise BackendError(f"--model {model}: a file, not a model folder")
        return False
    if not _hub_id(model):
        raise BackendError(f"--model {model}: no such folder")
    if not hub:
        return False
    from huggingface_hub import constants, try_to_load_from_cache

    from appsplus.sources.hub import _hub_reachable

    if not constants.HF_HUB_OFFLINE and _hub_reachable(constants.ENDPOINT):
        return False
    cached = try_to_load_from_cache(model, "config.json", revision=revision)
    if isinstance(cached, str):
        return True
    raise BackendError(
        f"--model {model}: no such folder, and the hub is unreachable "
        f"({'HF_HUB_OFFLINE is set' if constants.HF_HUB_OFFLINE else constants.ENDPOINT}) "
        "with no cached copy; give a local model folder"
    )


def open_backend(
    kind: str,
    model: str,
    *,
    chat: bool | None = None,
    revision: str | None = None,
    device: str = "auto",
    dtype: str = "auto",
    base_url: str | None = None,
    trust_remote_code: bool = False,
    local_files_only: bool = False,
) -> Backend:
    """Open backend `kind` for `model`; raises BackendError (BackendUnavailable if not installed).

    `local_files_only` (hf): load a hub model from the local cache without the network.
    """
    if kind == "hf":
        from appsplus.bench.backends.hf import HFBackend

        return HFBackend(
            model,
            revision=revision,
            chat=chat,
            device=device,
            dtype=dtype,
            trust_remote_code=trust_remote_code,
            local_files_only=local_files_only,
        )
    if kind == "vllm":
        from appsplus.bench.backends.vllm import VLLMBackend

        return VLLMBackend(
            model, revision=revision, chat=chat, dtype=dtype, trust_remote_code=trust_remote_code
        )
    if kind == "openai":
        from appsplus.bench.backends.openai import OpenAIBackend

        if not base_url:
            raise BackendError("the openai backend needs --base-url (e.g. http://host:8000/v1)")
        return OpenAIBackend(model, base_url=base_url, chat=bool(chat))
    raise BackendError(f"unknown backend {kind!r}; choose one of {', '.join(BACKENDS)}")


def chat_messages(request: Request, system_turn: bool) -> list[dict[str, str]]:
    """The chat messages of a request: [system, user] (or one user message, both texts
    joined, when `system_turn` is False), or [user] without a system message."""
    if request.system is None:
        return [{"role": "user", "content": request.text}]
    if system_turn:
        return [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.text},
        ]
    return [{"role": "user", "content": f"{request.system}\n\n{request.text}"}]


def cut_at_stop(text: str, stop: tuple[str, ...] | list[str]) -> tuple[str, bool]:
    """(text up to the first stop sequence, whether one was found)."""
    from appsplus.extract import truncate_at_stop

    cut = truncate_at_stop(text, list(stop))
    return cut, len(cut) < len(text)
