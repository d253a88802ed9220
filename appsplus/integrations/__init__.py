"""Plugs for the RL stacks people use: TRL, verl and OpenRLHF rewards, and dataset export.

    from appsplus.integrations.trl import CodeReward          # GRPOTrainer(reward_funcs=[...])
    # verl:     custom_reward_function.path=<appsplus/integrations/verl.py> name=compute_score
    # OpenRLHF: --remote_rm_url <appsplus/integrations/openrlhf.py>
    from appsplus.integrations.export import export_dataset   # `appsplus export`

Each reward is a thin layer over `scoring.Scorer` (the one executor, extraction and
reward shapes); nothing here imports torch at module level.
"""
