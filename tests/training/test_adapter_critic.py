"""critic.backbone=adapter: the critic is a second LoRA adapter (plus heads) on the LoRA actor's frozen base."""

from __future__ import annotations

import copy

import pytest
import torch

from tests.training.test_lora import LORA
from training.config import ConfigError, load_config
from training.critic import AdapterCritic, ValueModel
from training.trainer import Trainer

ADAPTER = [*LORA, "critic.backbone=adapter", "critic.lr=1e-2"]


def _actor_and_critic():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from hiper_agents.models import attach_lora

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, vocab_size=100))
    actor = attach_lora(model, 4, 8)
    return actor, AdapterCritic(actor, 4, 8)


def _inputs():
    ids = torch.randint(0, 100, (2, 7), generator=torch.Generator().manual_seed(1))
    return ids, torch.ones_like(ids), torch.tensor([[6, 3, 6], [5, 2, 5]])


def test_the_critic_holds_its_adapter_and_heads_not_the_base():
    actor, critic = _actor_and_critic()
    names = list(critic.state_dict())
    assert names and all(n.startswith(("adapter.", "heads.")) or "feature" in n or "fitted" in n for n in names)
    assert all("__critic__" in n for n in names if n.startswith("adapter."))
    # outside `active()` the actor's trainable parameters are its own adapter's (what its optimizer is built from)
    trainable = {id(p) for p in actor.parameters() if p.requires_grad}
    assert trainable and not trainable & {id(p) for p in critic.adapter.values()}


def test_the_critic_reads_the_base_through_its_own_adapter_only():
    actor, critic = _actor_and_critic()
    ids, mask, positions = _inputs()
    base_critic = ValueModel(copy.deepcopy(actor.get_base_model().base_model), 32)
    base_critic.heads.load_state_dict(critic.heads.state_dict())
    with torch.no_grad():  # fresh adapters (B = 0) read exactly the base's hidden states
        torch.testing.assert_close(critic(ids, mask, positions), base_critic(ids, mask, positions))
        logits = actor(input_ids=ids).logits
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.5)
    with critic.active():
        critic(ids, mask, positions).pow(2).sum().backward()
    optimizer.step()
    with torch.no_grad():
        assert not torch.allclose(critic(ids, mask, positions), base_critic(ids, mask, positions))
        torch.testing.assert_close(actor(input_ids=ids).logits, logits)  # the actor's adapter is untouched
        with actor.disable_adapter():  # and the reference is still the base
            torch.testing.assert_close(actor(input_ids=ids).logits, logits)
    # what reaches vLLM (and `model/`) is the policy: the base plus the actor's adapter, never the critic's
    from hiper_agents.backends.vllm_backend import merged_weights

    base = {k.removeprefix("base_model.model.").replace(".base_layer.", "."): v for k, v in actor.state_dict().items()
            if "lora_" not in k}
    merged = dict(merged_weights(actor))
    assert merged.keys() == base.keys()
    for name, tensor in merged.items():  # the actor's adapter is fresh (B = 0): its delta is 0
        torch.testing.assert_close(tensor, base[name])


def test_adapter_critic_without_lora_is_one_clear_error():
    with pytest.raises(ConfigError, match="model.lora=true"):
        load_config(overrides=["critic.backbone=adapter"])


def _critic_after_one_update(tmp_path, name, *overrides):
    cfg = load_config(overrides=[*ADAPTER, "iterations=1", *overrides])
    with Trainer(cfg, tmp_path / name, progress=False) as trainer:
        row = trainer.iteration(1)
        state = {k: v.clone() for k, v in trainer.models.critic.state_dict().items()}
    return row, state


def test_checkpointed_critic_updates_equal_plain_ones(tmp_path):
    """Checkpointed layers recompute their forward in backward with the adapter active then: the critic's backward
    must run inside `active()`, else its gradients are the actor adapter's (or the recomputation fails)."""
    row, plain = _critic_after_one_update(tmp_path, "plain")
    _, checkpointed = _critic_after_one_update(tmp_path, "checkpointed", "model.gradient_checkpointing=true")
    moved = [k for k in plain if k.startswith("adapter.") and "lora_B" in k and plain[k].abs().sum() > 0]
    assert moved, "the critic's adapter did not train"
    assert row["kl"] < 1e-5 and row["update/skipped_steps"] == 0
    for key in plain:
        torch.testing.assert_close(checkpointed[key], plain[key], atol=1e-5, rtol=1e-4)


def test_an_adapter_critic_run_resumes_from_adapter_only_checkpoints(tmp_path):
    # without SFT the base is the named model's, so checkpoints hold the adapters and not the base
    overrides = [*ADAPTER, "sft.enabled=false", "iterations=2", "checkpoint_every=1"]
    with Trainer(load_config(overrides=overrides), tmp_path / "whole", progress=False) as trainer:
        trainer.train()
        expected = {k: v.clone() for k, v in trainer.models.critic.state_dict().items()}
    run = tmp_path / "resumed"
    with Trainer(load_config(overrides=[*overrides, "iterations=1"]), run, progress=False) as trainer:
        trainer.train()
    saved = torch.load(run / "checkpoints" / "iter_000001" / "actor.pt")
    assert saved and all("lora_" in name for name in saved)
    assert any(".critic." in name for name in saved)
    with Trainer(load_config(overrides=overrides), run, resume=True, progress=False) as trainer:
        trainer.train()
        resumed = trainer.models.critic.state_dict()
    for key in expected:
        torch.testing.assert_close(resumed[key], expected[key])
    assert not (run / "model" / "critic").exists()  # the saved policy is the actor's adapter only
