"""Where should a CCCS prompt end? Greedy pass rate of a model's curriculum subtasks (every
stage but full generation) with the prompt ending after the prefix's last newline (the
curriculum's raw prefix) or before it (`appsplus.trainers.data.stages_of`: the completion starts
with the newline and the indentation). A developer script; it prints measured counts.

    python scripts/cccs_boundary.py --model OUT/seed-0/sft/model --data OUT/data

(OUT: a scripts/ablation.py output folder; any causal LM folder and built APPS+ dataset work.)
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="CCCS subtask pass rate: prompt ending after vs before the prefix's last "
        "newline. Example: python scripts/cccs_boundary.py --model runs/sft/model --data synth",
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="a built APPS+ dataset folder")
    parser.add_argument("--split", default="train")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    from appsplus.curriculum.subtasks import subtasks_for
    from appsplus.execution import WorkerPool
    from appsplus.trainers.data import load_records
    from appsplus.trainers.judge import compute_rewards
    from appsplus.trainers.model import generate, load_lm

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    lm = load_lm(args.model).eval()
    records = load_records(args.data, args.split)
    jobs = [(r, s.prefix) for r in records for s in subtasks_for(r.model_dump()) if s.prefix]
    ways = {
        "after the newline (raw prefix)": lambda p: p,
        "before the newline (stages_of)": lambda p: p.removesuffix("\n"),
    }
    with WorkerPool(2) as pool:
        for name, cut in ways.items():
            passed = indented = indented_passed = 0
            for i in range(0, len(jobs), 32):
                batch = jobs[i : i + 32]
                prefixes = [cut(p) for _, p in batch]
                prompts = [r.prompt(p) for (r, _), p in zip(batch, prefixes)]
                gen = generate(lm, tokenizer, prompts, args.max_new_tokens, 1024, 0.0)
                texts = tokenizer.batch_decode(
                    [row[mask] for row, mask in zip(gen.response, gen.response_mask)],
                    skip_special_tokens=True,
                    clean_up_tokenization_spaces=False,
                )
                results = compute_rewards([r for r, _ in batch], prefixes, texts, pool=pool)
                for (r, p), result in zip(batch, results):
                    passed += result.passed
                    starts_indented = r.canonical_solution[len(p) : len(p) + 1] in (" ", "\t")
                    indented += starts_indented
                    indented_passed += starts_indented and result.passed
            print(
                f"prompt ending {name}: {passed}/{len(jobs)} subtasks pass; "
                f"those starting at an indented line: {indented_passed}/{indented}"
            )


if __name__ == "__main__":
    main()
