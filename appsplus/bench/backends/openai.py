"""The `openai` backend: any OpenAI-compatible server (vLLM, TGI, llama.cpp, ...), stdlib HTTP only.

Completion-style prompts go to `POST {base_url}/completions` with `prompt`, `n`,
`temperature`, `top_p`, `max_tokens`, `stop` and `seed`; with `chat=True` the prompt is a
user message sent to `POST {base_url}/chat/completions` (the server applies the chat
template), after the request's system message as a `system` message when it has one (the
server's template decides what becomes of it; bench cannot probe it from here). `OPENAI_API_KEY`, when set, is sent as a bearer token. Transient failures
(connection errors, 429, 5xx) are retried with exponential backoff, a bounded number of
times; other HTTP errors fail at once with the server's message. The requests of one
batch are sent concurrently.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from appsplus.bench.backends import (
    Backend,
    BackendError,
    Completion,
    Request,
    SamplingParams,
    chat_messages,
    cut_at_stop,
)
from appsplus.bench.files import ModelInfo

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class OpenAIBackend(Backend):
    """Completions from an OpenAI-compatible HTTP endpoint."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        chat: bool = False,
        timeout_s: float = 600.0,
        retries: int = 5,
        concurrency: int = 8,
        api_key: str | None = None,
        retry_delay_s: float = 1.0,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.chat = chat
        self.timeout_s = timeout_s
        self.retries = retries
        self.concurrency = concurrency
        self.retry_delay_s = retry_delay_s
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")

    def info(self) -> ModelInfo:
        return ModelInfo(
            backend="openai", model=self.model, base_url=self.base_url, chat_template=self.chat
        )

    def _post(self, path: str, payload: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(payload).encode()
        url = f"{self.base_url}{path}"
        delay = self.retry_delay_s
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as e:
                body = e.read()[:500].decode("utf-8", "replace")
                if e.code not in RETRY_STATUS or attempt == self.retries:
                    raise BackendError(f"{url}: HTTP {e.code}: {body}") from e
                logger.warning("%s: HTTP %d, retrying in %.0f s", url, e.code, delay)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt == self.retries:
                    raise BackendError(f"{url}: {e}") from e
                logger.warning("%s: %s, retrying in %.0f s", url, e, delay)
            except ValueError as e:
                raise BackendError(f"{url}: the response is not JSON: {e}") from e
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise BackendError(f"{url}: no response")  # pragma: no cover - the loop returns or raises

    def _one(self, request: Request, params: SamplingParams, seed: int) -> list[Completion]:
        payload: dict = {
            "model": self.model,
            "n": request.count,
            "temperature": params.temperature,
            "top_p": params.top_p if params.temperature > 0 else 1.0,
            "max_tokens": params.max_new_tokens,
            "seed": seed,
        }
        if request.stop:
            payload["stop"] = list(request.stop)
        if self.chat:
            if request.prefix:
                raise BackendError(
                    "a chat endpoint cannot continue a given start of the answer (critic "
                    "sampling's refine step); serve the model without --chat-template"
                )
            payload["messages"] = chat_messages(request, self.system_turn)
            body = self._post("/chat/completions", payload)
        else:
            payload["prompt"] = request.text + request.prefix
            body = self._post("/completions", payload)
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or len(choices) != request.count:
            got = len(choices) if isinstance(choices, list) else "no"
            raise BackendError(f"the server returned {got} choices for n={request.count}")
        choices = sorted(choices, key=lambda c: c.get("index", 0))
        completions = []
        for choice in choices:
            text = choice.get("message", {}).get("content") if self.chat else choice.get("text")
            if not isinstance(text, str):
                raise BackendError(f"a choice without text: {str(choice)[:200]}")
            text, stopped = cut_at_stop(text, request.stop)
            reason = "stop" if stopped else choice.get("finish_reason")
            completions.append(Completion(text=text, finish_reason=reason))
        return completions

    def generate(
        self, requests: list[Request], params: SamplingParams, seed: int
    ) -> list[list[Completion]]:
        if len(requests) <= 1:
            return [self._one(r, params, seed + i) for i, r in enumerate(requests)]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            futures = [pool.submit(self._one, r, params, seed + i) for i, r in enumerate(requests)]
            return [f.result() for f in futures]
