"""Task splits of hiper/BabyAI-v0: disjoint level seeds, and held-out colour-type combinations.

A BabyAI task is a level seed: the seed fixes the layout and the mission. `train` and `test` take seeds from
disjoint ranges (held-out tasks are unseen layouts and missions). `train_combos` and `test_combos` also split the
missions: six colour-type combinations (one per colour, each object type twice) never appear in a `train_combos`
mission and at least one appears in every `test_combos` mission, so a policy is tested on descriptions it has
never been asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from typing import Any

from hiper_gym.babyai.levels import instruction_leaves

SEED_BASE = {"train": 0, "test": 1 << 30}
SPLITS = ("train", "test", "train_combos", "test_combos")
SPLIT_SIZE = 10_000  # tasks per split that the trainer lists (any index is valid)
HELD_OUT_COMBOS = frozenset({("red", "ball"), ("green", "key"), ("blue", "box"), ("purple", "ball"),
                             ("yellow", "key"), ("grey", "box")})
MAX_DRAWS = 1_000


def _mix(*parts: int) -> int:
    data = b"".join(int(p).to_bytes(8, "little") for p in parts)
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little") % (1 << 30)


def named_objects(level: Any) -> list[tuple[str, str | None]]:
    """(colour, type) of every object the mission names (colour None when the mission gives none)."""
    named = []
    for leaf in instruction_leaves(level.instrs):
        for desc in (getattr(leaf, "desc", None), getattr(leaf, "desc_move", None), getattr(leaf, "desc_fixed", None)):
            if desc is not None:
                named.append((desc.color, desc.type))
    return named


def held_out_combo(level: Any) -> bool:
    """Whether the level's mission names a held-out colour-type combination."""
    return any(combo in HELD_OUT_COMBOS for combo in named_objects(level))


def _reset(level: Any, seed: int) -> dict[str, Any]:
    """Reset a level quietly: minigrid prints every rejected layout ("Sampling rejected: ...") on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        obs, _ = level.reset(seed=seed)
    return obs


def level_seed(level: Any, split: str, index: int) -> tuple[int, dict[str, Any]]:
    """Reset `level` to task `index` of `split`; returns (the level seed, minigrid's first observation)."""
    base = SEED_BASE["test" if split.startswith("test") else "train"]
    if split in ("train", "test"):
        seed = base + index
        obs = _reset(level, seed)
        return seed, obs
    want = split == "test_combos"
    for draw in range(MAX_DRAWS):  # rejection sampling over seeds of the split's range, deterministic per index
        seed = base + _mix(index, draw)
        obs = _reset(level, seed)
        if held_out_combo(level) == want:
            return seed, obs
    raise ValueError(f"split {split!r}: no mission of level {type(level).__name__} in {MAX_DRAWS} draws "
                     "(does this level name colours?); use split 'train' or 'test'")
