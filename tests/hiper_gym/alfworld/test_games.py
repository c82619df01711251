"""The game index: split and task-type counts, task-type names, the official folder layout."""

from __future__ import annotations

import json
import shutil

import pytest

from hiper_gym.alfworld.games import TASK_TYPES, load_games, resolve_task_types, task_type_of
from hiper_gym.data import DataNotFoundError


def test_split_and_type_counts_match_the_published_numbers(games):
    counts = games.counts()
    assert {split: sum(per_type.values()) for split, per_type in counts.items()} == {
        "train": 3553,
        "valid_seen": 140,
        "valid_unseen": 134,
    }
    assert counts["valid_unseen"] == {
        "look_at_obj_in_light": 18,
        "pick_and_place_simple": 24,
        "pick_clean_then_place_in_recep": 31,
        "pick_cool_then_place_in_recep": 21,
        "pick_heat_then_place_in_recep": 23,
        "pick_two_obj_and_place": 17,
    }
    assert set(counts["train"]) == set(TASK_TYPES) and set(counts["valid_seen"]) == set(TASK_TYPES)


def test_games_are_listed_in_a_fixed_order_and_filtered_by_type(games):
    heat = games.games("valid_unseen", ["pick_heat"])
    assert len(heat) == 23 and all(r.task_type == "pick_heat_then_place_in_recep" for r in heat)
    assert [r.name for r in heat] == sorted(r.name for r in heat)
    assert all(r.task_folder.startswith("pick_heat_then_place_in_recep-") for r in heat)
    assert len(games.games("all")) == 3553 + 140 + 134
    with pytest.raises(ValueError, match="split"):
        games.games("test")


def test_task_types_resolve_from_names_prefixes_and_ids():
    assert resolve_task_types(None) == TASK_TYPES
    assert resolve_task_types(["pick_two", 2, "pick_and_place_simple"]) == (
        "pick_two_obj_and_place",
        "look_at_obj_in_light",
        "pick_and_place_simple",
    )
    assert resolve_task_types("4") == ("pick_heat_then_place_in_recep",)
    with pytest.raises(ValueError, match="ambiguous"):
        resolve_task_types(["pick"])
    with pytest.raises(ValueError, match="unknown"):
        resolve_task_types(["slice_the_bread"])
    assert task_type_of("pick_cool_then_place_in_recep-Bread-None-CounterTop-10") == "pick_cool_then_place_in_recep"


def test_official_layout_is_walked_keeping_solvable_games_only(games, tmp_path):
    source = games.games("valid_seen")[:2]
    root = tmp_path / "json_2.1.1"
    for record in source:
        target = root / record.name
        target.parent.mkdir(parents=True)
        shutil.copy(record.path, target)
    unsolvable = json.loads((root / source[1].name).read_text())
    unsolvable["solvable"] = False
    (root / source[1].name).write_text(json.dumps(unsolvable))
    movable = root / "valid_seen" / "pick_and_place_simple-Mug-None-Desk-1-movable" / "trial_1" / "game.tw-pddl"
    movable.parent.mkdir(parents=True)
    shutil.copy(source[0].path, movable)

    index = load_games(tmp_path)  # the download folder; json_2.1.1 inside it is found
    assert [r.name for r in index.records] == [source[0].name]
    assert index.records[0].task_type == source[0].task_type and index.root == root.resolve()


def test_a_folder_without_games_raises_data_not_found(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(DataNotFoundError, match="no ALFWorld games"):
        load_games(tmp_path)
