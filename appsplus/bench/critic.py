"""The CodeRL critic, once: outcome classes, model, folder format, encoding and scoring.

    critic = load_critic("runs/coderl/critic")
    [score] = critic.score([(prompt, program)])
    score.p_pass                    # sequence probability that the program passes
    score.token_p_pass[t]           # the same judged from program[: score.token_ends[t]]

`python -m appsplus.trainers.coderl train-critic` trains it (trainers import this module; benchmarks
never import trainers) and `bench run --strategy critic-sampling` scores with it. A critic
is any transformers `AutoModel` backbone plus a linear 4-way outcome head on every token;
its folder:

    backbone/           the backbone (save_pretrained) and the actor's tokenizer
    head.safetensors    `weight` [4, hidden] and `bias` [4] of the linear outcome head
    head.json           {"classes": ["compile_error", "runtime_error", "failed_test", "passed"]}

Inputs (`encode`): the prompt tokens (with the tokenizer's special tokens), then the
program's tokens (without) and EOS; a too-long input loses prompt tokens first. Token t's
logits come from the head on the backbone's last hidden state there; the sequence
prediction is their max-pool over the program tokens (`sequence_logits`). Scoring needs a
fast tokenizer (character offsets of the program tokens). torch and transformers are
imported inside the functions that need them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from appsplus.errors import AppsplusError
from appsplus.execution import Verdict

OUTCOMES = ("compile_error", "runtime_error", "failed_test", "passed")  # head classes 0..3
Outcome = Literal["compile_error", "runtime_error", "failed_test", "passed"]
PASSED = OUTCOMES.index("passed")


def outcome_class(verdict: Verdict) -> Outcome:
    """A program's outcome (`appsplus.trainers.judge.program_outcome`) -> its critic class."""
    if verdict is Verdict.COMPILE_ERROR:
        return "compile_error"
    if verdict is Verdict.PASSED:
        return "passed"
    if verdict in (Verdict.WRONG_ANSWER, Verdict.SKIPPED):
        return "failed_test"
    return "runtime_error"


class CriticError(AppsplusError, ValueError):
    """A critic folder is missing, malformed, or unusable."""


@dataclass(frozen=True)
class ProgramScore:
    """The critic's view of one program.

    `token_starts[t]`/`token_ends[t]`: character span of program token t (the EOS token is
    not listed); `token_p_pass[t]`: probability of `passed` at token t; `p_pass`: the
    sequence probability of `passed` (softmax of the max-pooled logits); `outcome`: the
    most likely class of the sequence.
    """

    token_starts: tuple[int, ...]
    token_ends: tuple[int, ...]
    token_p_pass: tuple[float, ...]
    p_pass: float
    outcome: str


# --------------------------------------------------------------------------- the folder
def critic_fingerprint(folder: str | Path) -> str:
    """sha256 over the critic folder's file names, sizes and the head's bytes."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(root)}\0{path.stat().st_size}\n".encode())
    head = root / "head.safetensors"
    if head.is_file():
        digest.update(head.read_bytes())
    return digest.hexdigest()


def check_critic_folder(folder: str | Path) -> None:
    """Raise CriticError unless `folder` has the files of a critic (cheap; loads nothing)."""
    root = Path(folder)
    for name in ("backbone", "head.safetensors", "head.json"):
        if not (root / name).exists():
            raise CriticError(f"{root}: no {name} (not a critic folder written by train-critic)")
    meta = json.loads((root / "head.json").read_text())
    if list(meta.get("classes", [])) != list(OUTCOMES):
        raise CriticError(f"{root}: critic classes {meta.get('classes')} != {list(OUTCOMES)}")


def save_critic(model, folder: str | Path, tokenizer) -> None:
    """Write a CriticModel and the tokenizer it reads into `folder` (the format above)."""
    from safetensors.torch import save_file

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    model.backbone.save_pretrained(root / "backbone")
    tokenizer.save_pretrained(root / "backbone")
    head = {k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}
    save_file(head, str(root / "head.safetensors"))
    (root / "head.json").write_text(json.dumps({"classes": list(OUTCOMES)}, indent=1))


def load_critic_model(folder: str | Path, dtype: str | None = None):
    """The CriticModel saved in `folder`, in eval mode on the CPU (`dtype`: the backbone's
    weights, e.g. 'bfloat16'; None: transformers' default)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel

    root = Path(folder)
    check_critic_folder(root)
    kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    backbone = AutoModel.from_pretrained(root / "backbone", **kwargs)
    hidden = backbone.config.get_text_config().hidden_size
    head = torch.nn.Linear(hidden, len(OUTCOMES), dtype=torch.float32, device="meta")
    head.load_state_dict(load_file(str(root / "head.safetensors")), assign=True)
    return critic_model_class()(backbone, head).eval()


# --------------------------------------------------------------------------- the model
@functools.cache
def critic_model_class():
    """The critic's torch module class (defined on first use: torch is imported here)."""
    import torch
    from torch import nn

    class CriticModel(nn.Module):
        """Any AutoModel backbone + a linear 4-way outcome head (float32) on every token;
        a new head is randomly initialized."""

        def __init__(self, backbone: nn.Module, head: nn.Linear | None = None) -> None:
            super().__init__()
            self.backbone = backbone
            hidden = backbone.config.get_text_config().hidden_size
            self.head = (
                head if head is not None else nn.Linear(hidden, len(OUTCOMES), dtype=torch.float32)
            )

        def forward(self, input_ids, attention_mask):
            """[B, L], [B, L] -> token outcome logits [B, L, 4] (float32)."""
            positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # skip left pads
            out = self.backbone(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=positions,
                use_cache=False,
            )
            return self.head(out.last_hidden_state.float())  # [B, L, 4]

    return CriticModel


def sequence_logits(token_logits, program_mask):
    """Max-pool of token outcome logits over program tokens: [B, L, 4], [B, L] -> [B, 4]."""
    import torch

    masked = token_logits.masked_fill(
        ~program_mask.bool().unsqueeze(-1), torch.finfo(token_logits.dtype).min
    )  # [B, L, 4]
    return masked.max(dim=1).values  # [B, 4]


# --------------------------------------------------------------------------- inputs
def encode(tokenizer, prompt: str, program: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of prompt + program + EOS and the number of prompt tokens kept.

    Tokenized separately (as the actor sees them); prompt tokens go first when too long.
    """
    p = tokenizer(prompt)["input_ids"]
    t = [*tokenizer(program, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    t = t[:max_length]
    p = p[max(0, len(p) + len(t) - max_length) :]
    return p + t, len(p)


def program_spans(tokenizer, program: str, max_length: int) -> list[tuple[int, int]]:
    """Character [start, end) of each program token `encode` keeps (EOS not listed)."""
    if not tokenizer.is_fast:
        raise CriticError("scoring needs a fast tokenizer (character offsets)")
    enc = tokenizer(program, add_special_tokens=False, return_offsets_mapping=True)
    return [tuple(span) for span in enc["offset_mapping"]][:max_length]


def pad_id(tokenizer) -> int:
    """The tokenizer's padding id (EOS when it has none)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def collate(rows: list[tuple[list[int], int]], pad: int):
    """Right-padded batch of `encode` rows: input_ids, attention_mask, program_mask [B, L]."""
    import torch

    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)  # [B, L]
    attention = torch.zeros((len(rows), width), dtype=torch.long)  # [B, L]
    program = torch.zeros((len(rows), width), dtype=torch.bool)  # [B, L]
    for i, (ids, n_prompt) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention[i, : len(ids)] = 1
        program[i, n_prompt : len(ids)] = True
    return input_ids, attention, program


# --------------------------------------------------------------------------- scoring
class Critic:
    """A loaded critic and its tokenizer on one device, for scoring programs."""

    def __init__(
        self,
        folder: str | Path,
        device: str = "auto",
        max_length: int = 2048,
        dtype: str | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoTokenizer
        except ImportError as e:
            raise CriticError(
                "a critic needs torch and transformers: pip install -e '.[train]'"
            ) from e
        root = Path(folder)
        check_critic_folder(root)
        self._torch = torch
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(root / "backbone")
        if not self.tokenizer.is_fast:
            raise CriticError(f"{root}: the critic needs a fast tokenizer (character offsets)")
        self.model = load_critic_model(root, dtype).to(device)
        text = self.model.backbone.config.get_text_config()
        limit = getattr(text, "max_position_embeddings", None)
        self.max_length = min(max_length, limit or max_length)

    def score(self, pairs: list[tuple[str, str]], batch_size: int = 8) -> list[ProgramScore]:
        """A ProgramScore per (prompt, program), in order."""
        torch = self._torch
        out: list[ProgramScore] = []
        for s in range(0, len(pairs), batch_size):
            chunk = pairs[s : s + batch_size]
            rows = [encode(self.tokenizer, p, prog, self.max_length) for p, prog in chunk]
            ids, attn, prog = (t.to(self.device) for t in collate(rows, pad_id(self.tokenizer)))
            with torch.inference_mode():
                logits = self.model(ids, attn)  # [B, L, 4]
                pooled = sequence_logits(logits, prog).softmax(-1)  # [B, 4]
            for i, ((_, program), (_, n_prompt)) in enumerate(zip(chunk, rows)):
                spans = program_spans(self.tokenizer, program, self.max_length)
                token_p = logits[i, n_prompt : n_prompt + len(spans)].softmax(-1)  # [T, 4]
                out.append(
                    ProgramScore(
                        token_starts=tuple(a for a, _ in spans),
                        token_ends=tuple(b for _, b in spans),
                        token_p_pass=tuple(token_p[:, PASSED].tolist()),
                        p_pass=float(pooled[i, PASSED]),
                        outcome=OUTCOMES[int(pooled[i].argmax())],
                    )
                )
        return out

    def close(self) -> None:
        del self.model
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


def load_critic(folder: str | Path, device: str = "auto", dtype: str | None = None) -> Critic:
    """The critic saved in `folder` (see the module docstring for the format)."""
    return Critic(folder, device=device, dtype=dtype)
