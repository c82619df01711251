"""Typed config: defaults, YAML, dotted overrides, and one clear error for bad input."""

from __future__ import annotations

import pytest

from training.config import ConfigError, RunConfig, describe, load_config


def test_defaults_without_file():
    cfg = load_config()
    assert isinstance(cfg, RunConfig) and cfg.algo.name == "hiper" and cfg.algo.hae.lam_seg == 0.95


def test_yaml_then_dotted_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("algo:\n  name: grpo\nenv:\n  num_envs: 4\n  kwargs: {observation_mode: text_rich}\n")
    cfg = load_config(path, ["env.num_envs=128", "optim.actor_lr=2e-6", "algo.hae.bootstrap_truncated=true"])
    assert cfg.algo.name == "grpo" and cfg.env.num_envs == 128 and cfg.optim.actor_lr == 2e-6
    assert cfg.algo.hae.bootstrap_truncated is True and cfg.env.kwargs == {"observation_mode": "text_rich"}


@pytest.mark.parametrize("override, message", [
    (["algo.nmae=hiper"], "unknown config key 'algo.nmae'"),
    (["algo.name=ppo2"], "not one of"),
    (["env.num_envs=0"], "below the minimum"),
    (["env.num_envs=many"], "expected int"),
    (["algo.hae.gamma=1.5"], "above the maximum"),
    (["optim.ppo_epochs=1.5"], "expected int"),
    (["model=tiny"], "expected a mapping"),
    (["noequals"], "section.key=value"),
])
def test_bad_values_are_rejected_with_one_clear_error(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=override)


def test_bad_yaml_file_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("algo: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_describe_lists_every_key_with_help():
    lines = describe()
    assert any(line.startswith("algo.hae.lam_seg = 0.95") and "#" in line for line in lines)
    assert len(lines) > 50


def test_fsdp_with_lora_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="model.fsdp with model.lora"):
        load_config(overrides=["model.fsdp=true", "model.lora=true"])
    assert load_config(overrides=["model.fsdp=true"]).model.fsdp is True


@pytest.mark.parametrize("old, new", [("algo.lam_seg=0.9", "algo.hae.lam_seg"), ("algo.keep_penalty=-1", "algo.shaping.keep_penalty"),
                                      ("algo.grpo_std=false", "algo.grpo.std_normalize")])
def test_a_flat_algo_key_names_where_it_moved(old, new):
    with pytest.raises(ConfigError, match=f"has moved: it is now {new}"):
        load_config(overrides=[old])


def test_each_estimator_setting_is_defined_once_and_checked():
    cfg = load_config(overrides=["algo.name=gigpo", "algo.gigpo.gamma=0.9", "algo.shaping.keep_penalty=-0.3"])
    assert cfg.algo.estimator() is cfg.algo.gigpo and cfg.algo.gigpo.gamma == 0.9
    with pytest.raises(ConfigError, match="above the maximum"):
        load_config(overrides=["algo.hae.lam_seg=1.5"])
    with pytest.raises(ConfigError, match="is not one of"):
        load_config(overrides=["algo.shaping.keep_penalty_mode=sometimes"])
