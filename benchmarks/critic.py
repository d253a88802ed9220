"""A CodeRL critic at inference: per-token outcome probabilities of (problem, program).

    critic = load_critic("runs/coderl/critic")
    [score] = critic.score([(prompt, program)])
    score.p_pass                    # sequence probability that the program passes
    score.token_p_pass[t]           # the same judged from program[: score.token_ends[t]]

The folder format is the one `python -m trainers.coderl train-critic` writes (benchmarks
never import trainers, so it is read here from the files):

    backbone/           a transformers `AutoModel` (save_pretrained) and its tokenizer
    head.safetensors    `weight` [4, hidden] and `bias` [4] of the linear outcome head
    head.json           {"classes": ["compile_error", "runtime_error", "failed_test", "passed"]}

Inputs are encoded exactly as in training: the prompt tokens (with the tokenizer's special
tokens), then the program's tokens (without) and EOS; a too-long input loses prompt tokens
first. Token t's logits come from the head on the backbone's last hidden state there; the
sequence prediction is their max-pool over the program tokens. Needs a fast tokenizer
(character offsets of the program tokens).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

CLASSES = ("compile_error", "runtime_error", "failed_test", "passed")
PASSED = CLASSES.index("passed")


class CriticError(ValueError):
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
    if list(meta.get("classes", [])) != list(CLASSES):
        raise CriticError(f"{root}: critic classes {meta.get('classes')} != {list(CLASSES)}")


class Critic:
    """A loaded critic: backbone + outcome head on one device."""

    def __init__(self, folder: str | Path, device: str = "auto", max_length: int = 2048) -> None:
        try:
            import torch
            from safetensors.torch import load_file
            from transformers import AutoModel, AutoTokenizer
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
        self.backbone = AutoModel.from_pretrained(root / "backbone").to(device).eval()
        limit = getattr(self.backbone.config.get_text_config(), "max_position_embeddings", None)
        self.max_length = min(max_length, limit or max_length)
        head = load_file(str(root / "head.safetensors"))
        self.weight = head["weight"].float().to(device)  # [4, H]
        self.bias = head["bias"].float().to(device)  # [4]

    def _encode(self, prompt: str, program: str):
        tok = self.tokenizer
        p = tok(prompt)["input_ids"]
        enc = tok(program, add_special_tokens=False, return_offsets_mapping=True)
        t = [*enc["input_ids"], tok.eos_token_id][: self.max_length]
        spans = list(enc["offset_mapping"])[: len(t)]  # all program tokens but EOS
        p = p[max(0, len(p) + len(t) - self.max_length) :]
        return p + t, len(p), spans

    def score(self, pairs: list[tuple[str, str]], batch_size: int = 8) -> list[ProgramScore]:
        """A ProgramScore per (prompt, program), in order."""
        torch = self._torch
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        out: list[ProgramScore] = []
        for s in range(0, len(pairs), batch_size):
            encoded = [self._encode(*pair) for pair in pairs[s : s + batch_size]]
            width = max(len(ids) for ids, _, _ in encoded)
            ids = torch.full((len(encoded), width), pad, dtype=torch.long)  # [B, L]
            attn = torch.zeros((len(encoded), width), dtype=torch.long)  # [B, L]
            for i, (row, _, _) in enumerate(encoded):
                ids[i, : len(row)] = torch.tensor(row)
                attn[i, : len(row)] = 1
            with torch.inference_mode():
                hidden = self.backbone(
                    input_ids=ids.to(self.device),
                    attention_mask=attn.to(self.device),
                    position_ids=(attn.cumsum(-1) - 1).clamp(min=0).to(self.device),
                    use_cache=False,
                ).last_hidden_state.float()  # [B, L, H]
                logits = hidden @ self.weight.T + self.bias  # [B, L, 4]
            for i, (row, n_prompt, spans) in enumerate(encoded):
                program_logits = logits[i, n_prompt : len(row)]  # [T + 1, 4] (EOS last)
                pooled = program_logits.max(dim=0).values.softmax(-1)  # [4]
                token_p = program_logits[: len(spans)].softmax(-1)[:, PASSED]  # [T]
                out.append(
                    ProgramScore(
                        token_starts=tuple(a for a, _ in spans),
                        token_ends=tuple(b for _, b in spans),
                        token_p_pass=tuple(token_p.tolist()),
                        p_pass=float(pooled[PASSED]),
                        outcome=CLASSES[int(pooled.argmax())],
                    )
                )
        return out

    def close(self) -> None:
        del self.backbone
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


def load_critic(folder: str | Path, device: str = "auto") -> Critic:
    """The critic saved in `folder` (see the module docstring for the format)."""
    return Critic(folder, device=device)
