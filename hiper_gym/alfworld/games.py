"""The ALFWorld games on disk: splits, task types, and where to find them.

The default is `shared/data/alfworld/alfworld-2.1.2.tar.xz` (every solvable game of the standard splits in the 2.1.2
format, with `index.json`), extracted once into the cache. `data_dir` may instead point at the official download
(`$ALFWORLD_DATA` or its `json_2.1.1` folder): its splits are walked as ALFWorld does (solvable games only, no
`movable`/`Sliced` trajectories), the task type read from each game's folder name.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hiper_gym.data import DataNotFoundError, extract_once, find_data

ARCHIVE = "alfworld/alfworld-2.1.2.tar.xz"
ARCHIVE_ROOT = "alfworld-2.1.2"
SPLITS = ("train", "valid_seen", "valid_unseen")
# ALFWorld's task types, in its own order (alfworld.agents.environment.alfred_tw_env.TASK_TYPES, ids 1-6).
TASK_TYPES = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
GAME_FILE = "game.tw-pddl"


@dataclass(frozen=True)
class GameRecord:
    """One game: its split, task type and file."""

    split: str
    task_type: str
    path: str  # absolute path of game.tw-pddl
    name: str  # path relative to the data root: <split>/<task folder>/<trial>/game.tw-pddl

    @property
    def task_folder(self) -> str:
        """The task's folder name (`<type>-<object>-<movable recep>-<recep>-<scene>`), shared by its trials."""
        return Path(self.name).parent.parent.name


@dataclass(frozen=True)
class GameIndex:
    """Every game of a data root, listed per split and task type in a fixed (sorted) order."""

    root: Path
    records: tuple[GameRecord, ...]

    def games(self, split: str, task_types: list[str] | tuple[str, ...] | None = None) -> list[GameRecord]:
        """The games of `split` (or "all") with one of `task_types` (default all), sorted by name."""
        if split != "all" and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} or 'all', got {split!r}")
        wanted = set(resolve_task_types(task_types))
        return [r for r in self.records if (split == "all" or r.split == split) and r.task_type in wanted]

    def counts(self) -> dict[str, dict[str, int]]:
        """Games per split and task type."""
        table: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
        for record in self.records:
            table[record.split][record.task_type] += 1
        return {split: dict(sorted(counter.items())) for split, counter in table.items()}


def resolve_task_types(task_types: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    """Full task-type names from names, unique prefixes ("pick_heat") or ALFWorld's ids 1-6; None means all."""
    if task_types is None:
        return TASK_TYPES
    if isinstance(task_types, (str, int)):
        task_types = [task_types]  # type: ignore[list-item]
    resolved = []
    for item in task_types:
        key = str(item)
        if key.isdigit() and 1 <= int(key) <= len(TASK_TYPES):
            resolved.append(TASK_TYPES[int(key) - 1])
            continue
        matches = [t for t in TASK_TYPES if t == key] or [t for t in TASK_TYPES if t.startswith(key)]
        if len(matches) != 1:
            raise ValueError(f"unknown or ambiguous ALFWorld task type {item!r}; expected one of {TASK_TYPES} or 1-6")
        resolved.append(matches[0])
    return tuple(dict.fromkeys(resolved))


def task_type_of(folder_name: str) -> str:
    """The task type encoded in a task folder name (`pick_heat_then_place_in_recep-Apple-None-Fridge-10`)."""
    prefix = folder_name.split("-", 1)[0]
    if prefix not in TASK_TYPES:
        raise ValueError(f"{folder_name!r} does not start with an ALFWorld task type")
    return prefix


def _is_solvable(path: Path) -> bool:
    # `solvable` is the last key of a game file: read the tail instead of parsing hundreds of KB per game.
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 256))
        match = re.search(rb'"solvable"\s*:\s*(true|false)', f.read())
    if match:
        return match.group(1) == b"true"
    try:
        return bool(json.loads(path.read_text()).get("solvable", False))
    except (OSError, ValueError):
        return False


def _walk_official(root: Path) -> list[GameRecord]:
    records = []
    for split in SPLITS:
        for path in sorted((root / split).glob(f"*/*/{GAME_FILE}")):
            folder = path.parent.parent.name
            if "movable" in folder or "Sliced" in folder or folder.split("-", 1)[0] not in TASK_TYPES:
                continue
            if _is_solvable(path):
                records.append(GameRecord(split, task_type_of(folder), str(path), str(path.relative_to(root))))
    return records


def _from_index(root: Path) -> list[GameRecord]:
    entries = json.loads((root / "index.json").read_text())
    return [GameRecord(e["split"], e["task_type"], str(root / e["game"]), e["game"]) for e in entries]


def games_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder whose `<split>/` subfolders hold the games: data_dir itself if it has them, else the archive's."""
    if data_dir is not None:
        base = Path(data_dir).expanduser()
        for candidate in (base, base / "json_2.1.1", base / ARCHIVE_ROOT):
            if (candidate / "index.json").is_file() or any((candidate / s).is_dir() for s in SPLITS):
                return candidate
    try:
        archive = find_data(ARCHIVE, data_dir)
    except DataNotFoundError as exc:
        raise DataNotFoundError(
            f"ALFWorld games not found: {exc} Pass data_dir= the official ALFWorld data (json_2.1.1) or the folder "
            "holding alfworld/alfworld-2.1.2.tar.xz, or set HIPER_DATA."
        ) from exc
    return extract_once(archive, "alfworld") / ARCHIVE_ROOT


@functools.lru_cache(maxsize=8)
def _load(root: str) -> GameIndex:
    path = Path(root)
    records = _from_index(path) if (path / "index.json").is_file() else _walk_official(path)
    if not records:
        raise DataNotFoundError(f"no ALFWorld games under {path} (expected {'/'.join(SPLITS)} folders of {GAME_FILE})")
    return GameIndex(path, tuple(sorted(records, key=lambda r: r.name)))


def load_games(data_dir: str | os.PathLike[str] | None = None) -> GameIndex:
    """The game index of `data_dir` (or the default archive), read once per process."""
    return _load(str(games_root(data_dir).resolve()))
