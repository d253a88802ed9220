"""The `vllm` backend (GPU): `vllm.LLM` with one `SamplingParams` per request.

vLLM is imported when the backend is opened; without it the error says how to install it
or which backend to use instead. Each request gets its own seed (`seed + i`), so a
request's samples do not depend on what else is in the batch.
"""

from __future__ import annotations

import logging

from appsplus.bench.backends import (
    Backend,
    BackendError,
    BackendUnavailable,
    Completion,
    Request,
    SamplingParams,
    cut_at_stop,
)
from appsplus.bench.backends.hf import chat_format, model_info, resolve_chat, takes_system_turn
from appsplus.bench.files import ModelInfo

logger = logging.getLogger(__name__)


class VLLMBackend(Backend):
    """A model served in-process by vLLM."""

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        chat: bool | None = None,
        dtype: str = "auto",
        trust_remote_code: bool = False,
    ) -> None:
        try:
            import vllm
        except ImportError as e:
            raise BackendUnavailable(
                "the vllm backend needs vLLM, which is not installed: `pip install vllm` on a "
                "CUDA machine, or use --backend hf (transformers) or --backend openai "
                "(a running vLLM/TGI server)"
            ) from e
        self._vllm = vllm
        self.model_id = model
        self.revision = revision
        try:
            self.llm = vllm.LLM(
                model=model, revision=revision, dtype=dtype, trust_remote_code=trust_remote_code
            )
        except Exception as e:  # vLLM raises many types (OOM, unsupported architecture, ...)
            raise BackendError(f"vLLM cannot load {model!r}: {type(e).__name__}: {e}") from e
        self.tokenizer = self.llm.get_tokenizer()
        self.chat = resolve_chat(self.tokenizer, chat, model)
        self.system_turn = self.chat and takes_system_turn(self.tokenizer)

    def info(self) -> ModelInfo:
        return model_info(
            "vllm",
            self.model_id,
            self.revision,
            self.chat,
            lambda: self.llm.llm_engine.model_config.hf_config.to_dict(),
        )

    def _format(self, request: Request) -> str:
        return chat_format(self.tokenizer, self.chat, request, self.system_turn)

    def generate(
        self, requests: list[Request], params: SamplingParams, seed: int
    ) -> list[list[Completion]]:
        sample = params.temperature > 0
        sampling = [
            self._vllm.SamplingParams(
                n=r.count,
                temperature=params.temperature if sample else 0.0,
                top_p=params.top_p if sample else 1.0,
                max_tokens=params.max_new_tokens,
                stop=list(r.stop) or None,
                seed=seed + i,
            )
            for i, r in enumerate(requests)
        ]
        prompts = [self._format(r) + r.prefix for r in requests]
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        results = []
        for request, output in zip(requests, outputs):
            completions = []
            for o in output.outputs:
                text, stopped = cut_at_stop(o.text, request.stop)
                reason = "stop" if stopped else o.finish_reason
                completions.append(Completion(text=text, finish_reason=reason))
            if len(completions) != request.count:
                raise BackendError(f"vLLM returned {len(completions)} of {request.count} samples")
            results.append(completions)
        return results
