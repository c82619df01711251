"""Training plugin for the shop example: `python -m training.run --plugin examples.shop_training
--config examples/shop_tiny.yaml` trains a tiny HiPER agent on `hiper/ShopTools-v0` (SFT on the expert, then RL)."""

from __future__ import annotations

from examples.shop_tools import ENV_ID, TASKS, expert_step
from training.tasks import TaskSource, register_task_source

register_task_source(
    ENV_ID,
    TaskSource(
        env_family="tools",
        count=lambda env, split: len(TASKS),  # 18 tasks; the test split is the same small set (a demo, not a benchmark)
        options=lambda split, i: {"task_index": i},
        expert=lambda: expert_step,
    ),
)
