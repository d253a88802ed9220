"""Models for the trainers: a causal LM with a value head, the frozen reference, sampling,
response log-probs, checkpoint files (safetensors + JSON, no pickle) and a tiny local model.

    policy = load_policy("path/or/hub-id")            # PolicyWithValue: .lm and .value_head
    reference = load_reference("path/or/hub-id")      # frozen copy for the KL penalty
    batch = generate(policy.lm, tokenizer, prompts, max_new_tokens=256)
    logprobs, values = policy_forward(policy, batch.input_ids, batch.attention_mask, R)

A tiny model for smoke runs and tests, built locally (random weights, a BPE tokenizer
trained on the embedded sample; nothing is downloaded):

    python -m appsplus.trainers.model tiny --out runs/tiny [--hidden 64 --layers 2 --vocab 1024]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from appsplus.errors import exit_on_error
from appsplus.trainers.checks import checkpoint_to_resume, checkpoints_in  # noqa: F401 (re-exported)
from appsplus.trainers.common import position_ids, token_logprobs

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


# --------------------------------------------------------------------------- models
class PolicyWithValue(nn.Module):
    """Any AutoModelForCausalLM plus a linear value head on its last hidden state."""

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm
        hidden = lm.config.get_text_config().hidden_size
        self.value_head = nn.Linear(hidden, 1, dtype=torch.float32)
        nn.init.zeros_(self.value_head.weight)  # V = 0 at the start; no RNG draw
        nn.init.zeros_(self.value_head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """input_ids, attention_mask: [B, L] -> logits [B, L, V], values [B, L] (float32)."""
        out = self.lm(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids(attention_mask),
            output_hidden_states=True,
            use_cache=False,
        )
        values = self.value_head(out.hidden_states[-1].float()).squeeze(-1)  # [B, L]
        return out.logits, values


def disable_dropout(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


ADAPTER_CONFIG = "adapter_config.json"  # a LoRA adapter folder (peft) holds this


def is_adapter(path: str | Path) -> bool:
    """Whether `path` is a LoRA adapter folder (adapter_config.json, no full model)."""
    return (Path(path) / ADAPTER_CONFIG).is_file() and not (Path(path) / "config.json").is_file()


def adapter_base(path: str | Path) -> str:
    """The base model an adapter folder was trained on (its adapter_config.json)."""
    return json.loads((Path(path) / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]


def _peft():
    try:
        import peft
    except ImportError as e:
        from appsplus.trainers.config import ConfigError

        raise ConfigError(
            "LoRA (lora_r > 0, or a LoRA adapter folder as the model) needs the peft package: "
            "pip install peft"
        ) from e
    return peft


def load_lm(
    path: str,
    dtype: str = "float32",
    adapter: str | None = None,
    lora: dict | None = None,
    trainable: bool = True,
):
    """AutoModelForCausalLM from `path` with dropout off; optionally LoRA (needs peft).

    `path` may itself be a LoRA adapter folder: its base model (adapter_config.json) is
    loaded with the adapter on top. `adapter`: a saved adapter folder to load on top of
    `path`. `lora`: keyword arguments of peft.LoraConfig for a fresh adapter.
    """
    from transformers import AutoModelForCausalLM

    if is_adapter(path):
        path, adapter = adapter_base(path), path
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=DTYPES[dtype])
    if adapter is not None:
        lm = _peft().PeftModel.from_pretrained(lm, adapter, is_trainable=trainable)
    elif lora:
        config = {"target_modules": "all-linear", "lora_dropout": 0.0, **lora}
        lm = _peft().get_peft_model(lm, _peft().LoraConfig(task_type="CAUSAL_LM", **config))
    disable_dropout(lm)
    return lm


def save_lm(lm, tokenizer, folder: Path, base: str) -> None:
    """save_pretrained of the model (a LoRA adapter: the adapter only) and the tokenizer.
    An adapter records its base model as an absolute path when `base` is a local folder
    (peft writes the path as given; a relative one breaks loading from elsewhere)."""
    lm.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    config = Path(folder) / ADAPTER_CONFIG
    if is_adapter(base):  # trained on top of another adapter: that one's base
        base = adapter_base(base)
    if config.is_file() and Path(base).expanduser().is_dir():
        data = json.loads(config.read_text())
        data["base_model_name_or_path"] = str(Path(base).expanduser().resolve())
        config.write_text(json.dumps(data, indent=2))


def merge_adapter(adapter: str | Path, out: str | Path, dtype: str = "float32") -> Path:
    """The base model with the LoRA adapter folded into its weights, saved as a plain model
    folder (with the adapter's tokenizer) that needs no peft to load."""
    from transformers import AutoTokenizer

    from appsplus.trainers.config import ConfigError

    if not is_adapter(adapter):
        raise ConfigError(f"{adapter}: not a LoRA adapter folder (no {ADAPTER_CONFIG})")
    lm = load_lm(str(adapter), dtype, trainable=False).merge_and_unload()
    lm.save_pretrained(out)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(out)
    return Path(out)


def enable_gradient_checkpointing(lm) -> None:
    """Recompute activations in the backward pass (less memory, ~30% more compute)."""
    kwargs = {"use_reentrant": False}
    if hasattr(lm, "activation_checkpointing_enable"):  # its name in recent transformers
        lm.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        lm.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    if hasattr(lm, "enable_input_require_grads"):
        lm.enable_input_require_grads()  # LoRA: frozen embeddings still pass gradients on
    lm.config.use_cache = False


def lr_at(step: int, base: float, warmup_steps: int, total_steps: int, schedule: str) -> float:
    """The learning rate of optimizer step `step` (1-based): linear warmup from 0 over
    `warmup_steps`, then constant, or linear or cosine decay to 0 at `total_steps`."""
    import math

    if warmup_steps and step <= warmup_steps:
        return base * step / warmup_steps
    if schedule == "constant":
        return base
    done = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    done = min(max(done, 0.0), 1.0)
    if schedule == "linear":
        return base * (1.0 - done)
    return base * 0.5 * (1.0 + math.cos(math.pi * done))  # cosine


def load_policy(
    path: str, dtype: str = "float32", adapter: str | None = None, lora: dict | None = None
) -> PolicyWithValue:
    """The trainable policy: the LM at `path` (+ LoRA) with a fresh zero value head."""
    return PolicyWithValue(load_lm(path, dtype, adapter, lora))


def load_reference(path: str, dtype: str = "float32") -> nn.Module:
    """The frozen reference LM for the KL penalty (eval mode, no gradients)."""
    lm = load_lm(path, dtype)
    lm.eval()
    lm.requires_grad_(False)
    return lm


# --------------------------------------------------------------------------- rollouts
@dataclass
class Generation:
    """Prompts and sampled responses, left-padded prompts then right-padded responses."""

    input_ids: torch.Tensor  # [B, P + R] prompt then response tokens
    attention_mask: torch.Tensor  # [B, P + R] 0 on left padding and after each response's EOS
    response: torch.Tensor  # [B, R] generated tokens (padding after EOS)
    response_mask: torch.Tensor  # [B, R] bool: generated tokens up to and including EOS

    @property
    def prompt_tokens(self) -> int:
        return int(self.attention_mask.sum() - self.response_mask.sum())


@torch.no_grad()
def generate(
    lm: nn.Module,
    tokenizer,
    prompts: list[str],
    max_new_tokens: int,
    max_prompt_tokens: int = 1024,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    **generate_kwargs: Any,
) -> Generation:
    """Sample one response per prompt (greedy when temperature == 0).

    Prompts longer than `max_prompt_tokens` lose tokens from the left (the end of a prompt
    holds the curriculum prefix the model must continue). Sets the tokenizer's padding and
    truncation sides to 'left'.
    """
    device = next(lm.parameters()).device
    tokenizer.padding_side, tokenizer.truncation_side = "left", "left"
    enc = tokenizer(
        prompts, return_tensors="pt", padding=True, truncation=True, max_length=max_prompt_tokens
    ).to(device)
    sampling = {"do_sample": False}
    if temperature > 0:
        sampling = {"do_sample": True, "temperature": temperature, "top_k": top_k, "top_p": top_p}
    out = lm.generate(
        input_ids=enc["input_ids"],
        attention_mask=enc["attention_mask"],
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **sampling,
        **generate_kwargs,
    )  # [B, P + R]
    p = enc["input_ids"].shape[1]
    response = out[:, p:]  # [B, R]
    is_eos = response == tokenizer.eos_token_id  # [B, R]
    response_mask = (is_eos.long().cumsum(-1) - is_eos.long()) == 0  # [B, R] through first EOS
    attention_mask = torch.cat([enc["attention_mask"].bool(), response_mask], dim=1)  # [B, P+R]
    return Generation(out, attention_mask.long(), response, response_mask)


def policy_forward(
    policy: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    n_response: int,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probs and values of the last `n_response` tokens: [B, L] -> ([B, R], [B, R]).

    The value of token t is read where its logits are (the state before it was sampled).
    Logits are divided by the sampling temperature, as the sampler did.
    """
    logits, values = policy(input_ids, attention_mask)  # [B, L, V], [B, L]
    logits = logits[:, -n_response - 1 : -1] / max(temperature, 1e-6)  # [B, R, V]
    logprobs = token_logprobs(logits, input_ids[:, -n_response:])  # [B, R]
    return logprobs, values[:, -n_response - 1 : -1]  # [B, R], [B, R]


def lm_logprobs(
    lm: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    n_response: int,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Log-probs of the last `n_response` tokens under a plain LM: [B, L] -> [B, R]."""
    logits = lm(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids(attention_mask),
        use_cache=False,
    ).logits  # [B, L, V]
    logits = logits[:, -n_response - 1 : -1] / max(temperature, 1e-6)  # [B, R, V]
    return token_logprobs(logits, input_ids[:, -n_response:])  # [B, R]


# --------------------------------------------------------------------------- checkpoint files
def save_tensors_and_json(path: Path, tensors: dict[str, torch.Tensor], meta: Any) -> None:
    """`path`.safetensors with the tensors and `path`.json with the rest."""
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, f"{path}.safetensors")
    Path(f"{path}.json").write_text(json.dumps(meta, indent=1))


def load_tensors_and_json(path: Path) -> tuple[dict[str, torch.Tensor], Any]:
    from safetensors.torch import load_file

    return load_file(f"{path}.safetensors"), json.loads(Path(f"{path}.json").read_text())


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state_dict split into tensors and JSON (no pickle)."""
    sd = optimizer.state_dict()
    tensors, state = {}, {}
    for index, entries in sd["state"].items():
        state[str(index)] = {}
        for name, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"state.{index}.{name}"] = value
                state[str(index)][name] = "__tensor__"
            else:
                state[str(index)][name] = value
    return tensors, {"state": state, "param_groups": sd["param_groups"]}


def restore_optimizer(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state = {
        int(index): {
            name: tensors[f"state.{index}.{name}"] if value == "__tensor__" else value
            for name, value in entries.items()
        }
        for index, entries in meta["state"].items()
    }
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    """The RNG states of python, numpy and torch (CPU and every CUDA device)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    meta = {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("torch_cuda_")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


@contextmanager
def checkpoint_folder(accelerator, folder: Path):
    """Write checkpoint `folder` from every process, atomically: the body writes the shared
    files into the yielded temporary folder (on the main process), then each process adds its
    RNG state (rng_rankR) and the folder is renamed into place (a crash leaves only a .tmp
    folder, never a partial checkpoint)."""
    import shutil

    tmp = folder.with_suffix(".tmp")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    yield tmp
    accelerator.wait_for_everyone()
    save_tensors_and_json(tmp / f"rng_rank{accelerator.process_index}", *rng_state())
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    accelerator.wait_for_everyone()


def restart_metrics(path: Path, key: str, last: int | None) -> None:
    """Start `path` (metrics.jsonl) for a run: empty for a fresh run (`last` None), else
    only the lines whose `key` is at most `last` (a resumed run drops the lines after its
    checkpoint). Call from the main process."""
    kept = []
    if last is not None and path.exists():
        kept = [
            line
            for line in path.read_text().splitlines()
            if line.strip() and json.loads(line)[key] <= last
        ]
    path.write_text("".join(line + "\n" for line in kept))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------- tiny local model
def build_tiny(
    out_dir: str | Path,
    texts: list[str],
    vocab_size: int = 1024,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    max_positions: int = 2048,
    seed: int = 0,
    chat_template: str | None = None,
) -> Path:
    """A random-weight Llama-architecture model and a byte-level BPE tokenizer trained on
    `texts`, saved with save_pretrained to `out_dir`. EOS doubles as the padding token;
    `chat_template` (Jinja) is set on the tokenizer when given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    eos = "<|endoftext|>"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[eos],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=eos, pad_token=eos)
    if chat_template:
        tokenizer.chat_template = chat_template
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=4 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    out = Path(out_dir)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def sample_corpus() -> list[str]:
    """Texts to train a tiny tokenizer on: the sample's prompts and solutions."""
    from appsplus.trainers.data import load_records

    records = load_records("sample", split=None)
    return [r.prompt() for r in records] + [s for r in records for s in r.solutions]


@exit_on_error("python -m appsplus.trainers.model")
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m appsplus.trainers.model",
        description="Build a tiny random Llama model + BPE tokenizer locally, or fold a LoRA "
        "adapter into its base model. Examples: python -m appsplus.trainers.model tiny "
        "--out runs/tiny --hidden 64 --layers 2; python -m appsplus.trainers.model merge "
        "--adapter runs/sft/model --out runs/sft/merged",
    )
    parser.add_argument("command", choices=["tiny", "merge"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--adapter", help="merge: the LoRA adapter folder (a trainer's model/)")
    parser.add_argument("--vocab", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if Path(args.out).exists() and not Path(args.out).is_dir():  # transformers would skip it
        parser.exit(2, f"{parser.prog}: error: --out {args.out}: exists and is not a folder\n")
    if args.command == "merge" and (not args.adapter or not is_adapter(args.adapter)):
        parser.exit(
            2,
            f"{parser.prog}: error: --adapter {args.adapter}: not a LoRA adapter "
            f"folder (no {ADAPTER_CONFIG})\n",
        )
    if Path(args.out).exists() and (not Path(args.out).is_dir() or any(Path(args.out).iterdir())):
        parser.exit(2, f"{parser.prog}: error: {args.out}: not empty; use a new folder\n")
    if args.command == "merge":
        log.info("merged model saved to %s", merge_adapter(args.adapter, args.out))
        return
    out = build_tiny(
        args.out, sample_corpus(), args.vocab, args.hidden, args.layers, args.heads, seed=args.seed
    )
    log.info("tiny model and tokenizer saved to %s", out)


if __name__ == "__main__":
    main()
