"""The `hf` backend: transformers `AutoModelForCausalLM` + `AutoTokenizer`, batched sampling.

- The model is loaded from a local path or a hub id (`revision` pins a hub commit).
- `device="auto"`: CUDA if available, else Apple MPS, else CPU; `dtype="auto"`: bfloat16
  (float16 without bf16 support) on CUDA, float32 elsewhere.
- Decoding uses a fresh `GenerationConfig` (temperature, top-p, top-k off, max new tokens,
  the stop strings), so settings hidden in a model's `generation_config.json` do not
  change the sampling; only its end-of-sequence ids are kept.
- One `generate` call per batch: every request's prompt repeated `count` times, left-padded;
  `torch.manual_seed(seed)` first, so a batch is reproducible on the same hardware.
- With a chat template (used when the tokenizer has one, unless `chat=False`) each prompt
  is the user message of a one-turn conversation, with the generation prompt appended;
  a request's system message is a system turn before it, or, when the template rejects a
  system role (or renders none; probed once at load: `takes_system_turn`), is joined into
  the user message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from appsplus.bench.backends import (
    Backend,
    BackendError,
    BackendUnavailable,
    Completion,
    Request,
    SamplingParams,
    chat_messages,
    cut_at_stop,
)
from appsplus.bench.files import ModelInfo

logger = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def local_fingerprints(path: Path) -> tuple[str | None, str | None]:
    """(sha256 of config.json, sha256 over the weight files' names and sizes) of a local model folder."""
    config = path / "config.json"
    config_sha = hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else None
    weights = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not weights:
        return config_sha, None
    digest = hashlib.sha256()
    for p in weights:
        digest.update(f"{p.name}\0{p.stat().st_size}\n".encode())
    return config_sha, digest.hexdigest()


def model_info(
    backend: str, model_id: str, revision: str | None, chat: bool, hub_config
) -> ModelInfo:
    """ModelInfo of a model loaded from a local folder (file fingerprints) or the hub.

    `hub_config()` returns the loaded model's config dict; it is hashed for hub models and
    may raise AttributeError when the backend cannot expose it.
    """
    path = Path(model_id).expanduser()
    config_sha = weights = None
    if path.is_dir():
        config_sha, weights = local_fingerprints(path)
    else:
        try:
            text = json.dumps(hub_config(), sort_keys=True, default=str)
            config_sha = hashlib.sha256(text.encode()).hexdigest()
        except AttributeError:
            pass
    return ModelInfo(
        backend=backend,
        model=model_id,
        revision=None if path.is_dir() else revision,
        config_sha256=config_sha,
        weights_fingerprint=weights,
        chat_template=chat,
    )


SYSTEM_PROBE = "appsplus-system-turn-probe"


def takes_system_turn(tokenizer) -> bool:
    """Whether the tokenizer's chat template renders a system turn (some raise on a system
    role, e.g. "System role not supported"; some leave it out)."""
    messages = [
        {"role": "system", "content": SYSTEM_PROBE},
        {"role": "user", "content": "x"},
    ]
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception:  # jinja2's TemplateError from raise_exception, or the template's own
        return False
    return isinstance(text, str) and SYSTEM_PROBE in text


def chat_format(tokenizer, chat: bool, request: Request | str, system_turn: bool = True) -> str:
    """The request's text as the user turn of a one-turn chat (after its system message,
    see `chat_messages`), with the generation prompt; without `chat`, the text as is."""
    if isinstance(request, str):
        request = Request(text=request, count=1)
    if not chat:
        return request.text
    return tokenizer.apply_chat_template(
        chat_messages(request, system_turn), tokenize=False, add_generation_prompt=True
    )


def resolve_chat(tokenizer, chat: bool | None, model: str) -> bool:
    """Whether prompts go through the chat template: `chat` if given (True needs a template),
    else whether the tokenizer has one."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if chat and not has_template:
        raise BackendError(f"{model}: --chat-template was asked for but the tokenizer has none")
    return has_template if chat is None else chat


def _device(requested: str, torch) -> str:
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _dtype(requested: str, device: str, torch):
    if requested != "auto":
        try:
            return getattr(torch, requested)
        except AttributeError:
            raise BackendError(f"unknown dtype {requested!r} (e.g. float32, bfloat16)") from None
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


class HFBackend(Backend):
    """A transformers causal LM on one device."""

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        chat: bool | None = None,
        device: str = "auto",
        dtype: str = "auto",
        trust_remote_code: bool = False,
        local_files_only: bool = False,
    ) -> None:
        try:
            import torch
            import transformers
        except ImportError as e:
            raise BackendUnavailable(
                "the hf backend needs torch and transformers: pip install -e '.[train]'"
            ) from e
        self._torch = torch
        self.model_id = model
        self.device = _device(device, torch)
        kwargs = {
            "revision": revision,
            "trust_remote_code": trust_remote_code,
            "local_files_only": local_files_only,
        }
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model, **kwargs)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                model, dtype=_dtype(dtype, self.device, torch), **kwargs
            )
        except (OSError, ValueError) as e:
            raise BackendError(f"cannot load model {model!r}: {e}") from e
        self.model.to(self.device).eval()
        self.chat = resolve_chat(self.tokenizer, chat, model)
        self.system_turn = self.chat and takes_system_turn(self.tokenizer)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            if self.tokenizer.eos_token_id is None:
                raise BackendError(f"{model}: the tokenizer has neither a pad nor an eos token")
            self.tokenizer.pad_token = self.tokenizer.eos_token
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        self.revision = revision or getattr(self.model.config, "_commit_hash", None)
        logger.info("loaded %s on %s (chat template: %s)", model, self.device, self.chat)

    def info(self) -> ModelInfo:
        return model_info("hf", self.model_id, self.revision, self.chat, self.model.config.to_dict)

    def _format(self, request: Request) -> str:
        return chat_format(self.tokenizer, self.chat, request, self.system_turn)

    def generate(
        self, requests: list[Request], params: SamplingParams, seed: int
    ) -> list[list[Completion]]:
        torch = self._torch
        from transformers import GenerationConfig

        texts = [self._format(r) + r.prefix for r in requests for _ in range(r.count)]
        if not texts:
            return [[] for _ in requests]
        stops = sorted({s for r in requests for s in r.stop if s})
        enc = self.tokenizer(
            texts, return_tensors="pt", padding=True, add_special_tokens=not self.chat
        ).to(self.device)
        sample = params.temperature > 0
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=sample,
            temperature=params.temperature if sample else None,
            top_p=params.top_p if sample else None,
            top_k=0 if sample else None,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=sorted(self.eos_ids) or None,
            stop_strings=stops or None,
        )
        torch.manual_seed(seed)
        with torch.inference_mode():
            out = self.model.generate(
                **enc, generation_config=config, tokenizer=self.tokenizer if stops else None
            )
        new = out[:, enc["input_ids"].shape[1] :].tolist()
        results: list[list[Completion]] = []
        row = 0
        for request in requests:
            completions = []
            for _ in range(request.count):
                ids = new[row]
                row += 1
                ended = next((i for i, t in enumerate(ids) if t in self.eos_ids), None)
                if ended is not None:
                    ids = ids[:ended]
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                text, stopped = cut_at_stop(text, request.stop)
                if stopped or ended is not None:
                    reason = "stop"
                elif len(ids) >= params.max_new_tokens:
                    reason = "length"
                else:
                    reason = "stop"  # another stop string of the batch ended the generation
                completions.append(Completion(text=text, finish_reason=reason))
            results.append(completions)
        return results

    def close(self) -> None:
        del self.model
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()
