"""Slim RL trainers over the appsplus data and executor (heavy imports happen inside functions).

- `trainers.stepcoder`: StepCoder, PPO with CCCS and FGO (`python -m trainers.stepcoder`)
- `trainers.coderl`: CodeRL, labelled samples, a critic, critic-weighted policy gradient
  (`python -m trainers.coderl sample|train-critic|train-actor`)
- `trainers.sft`: supervised warm start on canonical solutions (`python -m trainers.sft`)
- `trainers.evaluate`: pass rate per curriculum stage (`python -m trainers.evaluate`)
- shared parts: `common` (tensor helpers), `rewards` (execution rewards and FGO token
  masks), `data` (records, stages, tokenization), `model` (policy + value head,
  reference, sampling, checkpoint files, a tiny local model), `config` (YAML + --set,
  one-line config errors, --help/--show-config from the config classes); the CodeRL critic
  itself lives in `benchmarks.critic` (bench scores with it)
"""
