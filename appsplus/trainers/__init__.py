"""Slim RL trainers over the appsplus data and executor (heavy imports happen inside functions).

- `appsplus.trainers.stepcoder`: StepCoder, PPO with CCCS and FGO (`python -m appsplus.trainers.stepcoder`)
- `appsplus.trainers.coderl`: CodeRL, labelled samples, a critic, critic-weighted policy gradient
  (`python -m appsplus.trainers.coderl sample|train-critic|train-actor`)
- `appsplus.trainers.sft`: supervised warm start on canonical solutions (`python -m appsplus.trainers.sft`)
- `appsplus.trainers.stage_eval`: pass rate per curriculum stage (`python -m appsplus.trainers.stage_eval`)
- shared parts: `common` (tensor helpers), `judge` (execution rewards and FGO token
  masks), `data` (records, stages, tokenization), `model` (policy + value head,
  reference, sampling, checkpoint files, a tiny local model), `config` (YAML + --set,
  one-line config errors, --help/--show-config from the config classes), `checks` (what
  every trainer checks once: output folders, what a resume may change, the process count,
  non-finite losses/gradients/parameters; progress on stderr, Ctrl-C); the CodeRL critic
  itself lives in `appsplus.bench.critic` (bench scores with it)
"""
