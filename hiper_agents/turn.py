"""The turn format (docs/design.md §2): `<switch>KEEP|SWITCH</switch><subgoal>…</subgoal><action>…</action>`.

Parsing follows HiPER's reference projection, with these documented choices:
- Tags are matched case-insensitively (the reference lowercases the text before finding `<action>` and matches
  `<switch>`/`<subgoal>` case-sensitively; we treat all three alike). For each block the first opening tag is taken,
  and the first closing tag after it.
- The switch value is stripped and uppercased (`keep` reads KEEP); the subgoal is stripped; the action is stripped
  and lowercased.
- A turn is valid when all three blocks are found, the switch reads KEEP or SWITCH, and the text has no CJK
  characters (the reference rejects those too). Admissibility is recorded separately in `Turn.admissible`.
- An invalid turn still carries a best-effort action: the `<action>` text when that block exists, else the last
  `fallback_chars` characters of the lowercased response (30 for ALFWorld, 20 for WebShop in the reference).
- Segmentation: any switch text other than KEEP starts a segment; a missing or empty switch counts as KEEP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

BLOCKS = ("switch", "subgoal", "action")
SWITCH_VALUES = ("KEEP", "SWITCH")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Turn:
    """One parsed policy output."""

    switch: str | None
    subgoal: str | None
    action: str
    valid: bool
    error: str | None = None
    admissible: bool | None = None
    # Character spans [start, end) of each block found in the raw text, tags included.
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def starts_segment(self) -> bool:
        """Whether this turn's switch opens a new segment (turn 0 always does; the caller handles that)."""
        return bool(self.switch) and self.switch != "KEEP"

    @property
    def is_keep(self) -> bool:
        """Whether the turn counts as KEEP for segmentation and the KEEP penalty."""
        return not self.starts_segment


def _find_block(text: str, lowered: str, name: str) -> tuple[str, tuple[int, int]] | None:
    open_tag, close_tag = f"<{name}>", f"</{name}>"
    start = lowered.find(open_tag)
    if start == -1:
        return None
    end = lowered.find(close_tag, start + len(open_tag))
    if end == -1:
        return None
    return text[start + len(open_tag) : end], (start, end + len(close_tag))


def parse_turn(text: str, admissible: Iterable[str] | None = None, fallback_chars: int = 30) -> Turn:
    """Parse a model response into a Turn; never raises on any string."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # str.lower() can change length for a few characters (e.g. 'İ'); keep offsets valid by lowering per char
    # only when lengths agree, else fall back to ASCII-only lowering.
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    found = {name: _find_block(text, lowered, name) for name in BLOCKS}
    spans = {name: hit[1] for name, hit in found.items() if hit is not None}

    errors: list[str] = []
    action_hit = found["action"]
    if action_hit is not None:
        action = action_hit[0].strip().lower()
    else:
        action = lowered[-fallback_chars:] if fallback_chars > 0 else ""
        errors.append("missing <action> block")

    switch: str | None = None
    if found["switch"] is None:
        errors.append("missing <switch> block")
    else:
        switch = found["switch"][0].strip().upper()
        if switch not in SWITCH_VALUES:
            errors.append(f"switch must be KEEP or SWITCH, got {switch[:40]!r}")

    subgoal: str | None = None
    if found["subgoal"] is None:
        errors.append("missing <subgoal> block")
    else:
        subgoal = found["subgoal"][0].strip()

    if _CJK.search(text):
        errors.append("response contains CJK characters")

    is_admissible = None
    if admissible is not None:
        is_admissible = action in {a.strip().lower() for a in admissible}
    return Turn(
        switch=switch,
        subgoal=subgoal,
        action=action,
        valid=not errors,
        error="; ".join(errors) or None,
        admissible=is_admissible,
        spans=spans,
    )


def render_turn(switch: str, subgoal: str, action: str) -> str:
    """Render a turn in the exact format the policy is trained to emit."""
    if switch not in SWITCH_VALUES:
        raise ValueError(f"switch must be one of {SWITCH_VALUES}, got {switch!r}")
    return f"<switch>{switch}</switch>\n<subgoal>{subgoal}</subgoal>\n<action>{action}</action>"
