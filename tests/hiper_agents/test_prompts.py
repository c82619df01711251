"""Prompts: exactly the content of docs/design.md §2, one user message, fitted to max_prompt_tokens."""

from __future__ import annotations

import pytest

from hiper_agents.prompts import CUT_MARKER, PromptBuilder, PromptInputs, PromptTooLongError, render_user_message


def _inputs(**kw):
    base = dict(
        task="put a clean mug on the desk",
        step=3,
        observation="You arrive at desk 1. On the desk 1, you see a pen 2.",
        subgoal="find a mug",
        admissible=("go to cabinet 1", "help", "look"),
        history=(("obs one", "look"), ("obs two", "go to desk 1"), ("obs three", "examine desk 1")),
    )
    base.update(kw)
    return PromptInputs(**base)


def test_prompt_shows_task_step_history_observation_subgoal_actions_and_format():
    text = render_user_message("alfworld", _inputs(), history_length=2)
    for expected in ("put a clean mug on the desk", "Steps taken so far: 3.", "obs two", "go to desk 1", "obs three",
                     "examine desk 1", "You arrive at desk 1", "Current subgoal: find a mug", "- go to cabinet 1",
                     "- look", "<switch>KEEP or SWITCH</switch>", "<subgoal>", "<action>"):
        assert expected in text
    assert "obs one" not in text  # only the last history_length steps
    assert "- help" not in text  # ALFWorld's help is not offered
    assert text.index("obs three") < text.index("You arrive at desk 1") < text.index("Current subgoal")


def test_turn_zero_shows_subgoal_none_and_no_history():
    text = render_user_message("webshop", _inputs(step=0, subgoal=None, history=()))
    assert "Current subgoal: None" in text and "Observation:" not in text and "WebShop" in text


def test_history_length_zero_shows_no_history():
    assert "obs three" not in render_user_message("web", _inputs(), history_length=0)


def test_one_user_message_through_the_chat_template(tiny_tokenizer):
    prompt = PromptBuilder(tiny_tokenizer, "alfworld").build(_inputs())
    assert prompt.text.startswith("<|im_start|>user\n") and prompt.text.endswith("<|im_start|>assistant\n")
    assert prompt.text.count("<|im_start|>") == 2
    assert prompt.ids == tiny_tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt.user_message}], add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]


def test_long_observation_is_cut_from_the_middle_to_fit(tiny_tokenizer):
    builder = PromptBuilder(tiny_tokenizer, "alfworld", max_prompt_tokens=600)
    observation = "START " + "the quick brown fox jumps over the lazy dog " * 400 + " END"
    prompt = builder.build(_inputs(observation=observation))
    assert len(prompt.ids) <= 600 and prompt.observation_cut
    assert CUT_MARKER.strip() in prompt.user_message and "START" in prompt.user_message and "END" in prompt.user_message
    assert len(builder.build(_inputs(observation=observation[:-1] + "X")).ids) <= 600


def test_prompt_that_fits_is_not_cut(tiny_tokenizer):
    prompt = PromptBuilder(tiny_tokenizer, "alfworld", max_prompt_tokens=4096).build(_inputs())
    assert not prompt.observation_cut and CUT_MARKER.strip() not in prompt.user_message


def test_budget_below_the_instructions_raises_clear_error(tiny_tokenizer):
    with pytest.raises(PromptTooLongError, match="raise max_prompt_tokens"):
        PromptBuilder(tiny_tokenizer, "alfworld", max_prompt_tokens=20).build(_inputs())


def test_history_and_actions_are_dropped_only_when_the_observation_cut_is_not_enough(tiny_tokenizer):
    builder = PromptBuilder(tiny_tokenizer, "alfworld", max_prompt_tokens=4096)
    bare = len(builder.build(_inputs(observation="", history=(), admissible=())).ids)
    tight = PromptBuilder(tiny_tokenizer, "alfworld", max_prompt_tokens=bare + 40)
    prompt = tight.build(_inputs(history=(("long " * 200, "look"),), admissible=tuple(f"go to shelf {i}" for i in range(50))))
    assert len(prompt.ids) <= bare + 40 and "long long" not in prompt.user_message
    assert "- go to shelf 0" in prompt.user_message and "more" in prompt.user_message


def test_unknown_family_is_rejected():
    with pytest.raises(ValueError, match="env_family"):
        render_user_message("chess", _inputs())


def test_compact_style_shows_the_same_state_without_intro_and_instructions(tiny_tokenizer):
    text = render_user_message("babyai", _inputs(), history_length=2, style="compact")
    for expected in ("Task: put a clean mug on the desk", "Step: 4", "obs two", "examine desk 1", "You arrive at desk 1",
                     "Subgoal: find a mug", "- go to cabinet 1", "- look"):
        assert expected in text
    assert "obs one" not in text and "<switch>" not in text and "grid world" not in text
    full = PromptBuilder(tiny_tokenizer, "babyai", history_length=0).build(_inputs())
    compact = PromptBuilder(tiny_tokenizer, "babyai", history_length=0, style="compact").build(_inputs())
    assert len(compact.ids) < len(full.ids) / 2
    with pytest.raises(ValueError, match="prompt style"):
        PromptBuilder(tiny_tokenizer, "babyai", style="short")
