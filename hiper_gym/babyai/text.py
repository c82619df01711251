"""The agent's egocentric view as text, in the style of LLM-agent work on BabyAI (GLAM's BabyAI-Text, BALROG).

minigrid encodes the view as a [7, 7, 3] array of (object, colour, state) with the agent at the bottom centre
facing up; column offsets are steps right (negative: left), row offsets steps forward. Each visible object is one
line ("a red ball 2 steps forward and 1 step left"); walls only where they are straight ahead, left or right, the
nearest one each way, so the view stays a few lines long; and what the agent faces, if anything ("you face the
red ball"), the cell that blocks `go forward` and that `pick up` and `toggle` act on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT

ACTIONS = ("turn left", "turn right", "go forward", "pick up", "drop", "toggle")  # minigrid actions 0-5
DOOR_STATES = ("open", "closed", "locked")
_SKIP = {"unseen", "empty", "floor", "agent"}


def _steps(n: int, word: str) -> str:
    return f"{n} step {word}" if n == 1 else f"{n} steps {word}"


def relative_position(forward: int, right: int) -> str:
    """'2 steps forward and 1 step left', '3 steps right', 'right here'."""
    parts = []
    if forward:
        parts.append(_steps(forward, "forward"))
    if right:
        parts.append(_steps(abs(right), "right" if right > 0 else "left"))
    return " and ".join(parts) if parts else "right here"


def object_name(type_: str, color: str | None, state: int = 0) -> str:
    """'red ball', 'locked blue door', 'wall'."""
    if type_ == "wall":
        return "wall"
    if type_ == "door":
        return f"{DOOR_STATES[state]} {color} door"
    return f"{color} {type_}" if color else type_


def describe_view(image: np.ndarray, carrying: Any = None) -> list[str]:
    """The lines describing one egocentric observation (minigrid's `obs["image"]`)."""
    size = image.shape[0]
    centre, bottom = size // 2, size - 1
    objects: list[tuple[int, int, str]] = []
    walls: dict[str, int] = {}
    for col in range(size):
        for row in range(size):
            type_ = IDX_TO_OBJECT[int(image[col, row, 0])]
            forward, right = bottom - row, col - centre
            if type_ in _SKIP or (forward == 0 and right == 0):
                continue
            if type_ == "wall":
                direction = "forward" if right == 0 else ("left" if right < 0 else "right") if forward == 0 else None
                distance = forward if right == 0 else abs(right)
                if direction and distance < walls.get(direction, size + 1):
                    walls[direction] = distance
                continue
            name = object_name(type_, IDX_TO_COLOR[int(image[col, row, 1])], int(image[col, row, 2]))
            objects.append((forward + abs(right), forward, f"a {name} {relative_position(forward, right)}"))
    lines = [text for _, _, text in sorted(objects)]
    lines += [f"a wall {_steps(walls[d], d)}" for d in ("forward", "left", "right") if d in walls]
    front = _front(image)
    if front:  # said outright: a small policy misses that "1 step forward" means `go forward` is blocked
        lines.append(f"you face the {front}")
    if carrying is not None:
        lines.append(f"you carry a {object_name(carrying.type, carrying.color)}")
    return lines


def _front(image: np.ndarray) -> str | None:
    """What stands in the cell just ahead (the only one `go forward`, `pick up` and `toggle` act on), if anything."""
    size = image.shape[0]
    type_ = IDX_TO_OBJECT[int(image[size // 2, size - 2, 0])]
    if type_ in _SKIP:
        return None
    return object_name(type_, IDX_TO_COLOR[int(image[size // 2, size - 2, 1])], int(image[size // 2, size - 2, 2]))


def render_observation(mission: str, image: np.ndarray, carrying: Any = None) -> str:
    """The whole observation: the mission, then what the agent sees and carries."""
    lines = describe_view(image, carrying)
    seen = "\n".join(f"- {line}" for line in lines) if lines else "- nothing"
    return f"Mission: {mission}\nYou see:\n{seen}"
