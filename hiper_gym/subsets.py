"""Task subsets for quick runs: the tasks of a few task families, each family split between training and held out."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any


def split_families(
    families: dict[str, list[int]], n: int, key: Callable[[str], Any], seed: int
) -> tuple[list[int], list[int]]:
    """Task indices of the first n families (by `key`) with at least two tasks, each family's tasks split in half
    between training and held out (shuffled by `seed`), so every held-out task has siblings in training."""
    rng = random.Random(seed)
    train: list[int] = []
    held_out: list[int] = []
    for family in sorted((f for f in families if len(families[f]) >= 2), key=key)[:n]:
        members = list(families[family])
        rng.shuffle(members)
        half = len(members) // 2
        train += members[:half]
        held_out += members[half:]
    rng.shuffle(train)
    rng.shuffle(held_out)
    return train, held_out
