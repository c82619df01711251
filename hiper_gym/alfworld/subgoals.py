"""Judge a free-text ALFWorld subgoal against the current state: "take the mug", "heat the mug", "put the mug in the
cabinet", "go to the fridge", "turn on the desklamp", "examine the mug with the desklamp", and the milestone names.

`judge_subgoal` returns True or False when the text names a known kind of step and things of this game, and None
when it cannot tell (an unknown verb or an object the game does not have). Clauses joined by "and"/"then" must all
hold; "it" refers to the previous clause's object.
"""

from __future__ import annotations

import re

from hiper_gym.alfworld.milestones import MilestoneTracker
from hiper_gym.alfworld.world import WorldView

_FILLER = {"the", "a", "an", "some", "any", "one", "your", "my", "of", "up", "back", "down"}
_SYNONYMS = {
    "refrigerator": "fridge",
    "trash": "garbagecan",
    "trashcan": "garbagecan",
    "bin": "garbagecan",
    "garbage": "garbagecan",
    "light": "lamp",
    "microwaveoven": "microwave",
    "sink": "sinkbasin",
    "bathtub": "bathtubbasin",
    "tub": "bathtubbasin",
    "counter": "countertop",
    "tv": "television",
}
_ADJECTIVES = {
    "clean": "clean",
    "cleaned": "clean",
    "washed": "clean",
    "hot": "hot",
    "heated": "hot",
    "warm": "hot",
    "cool": "cool",
    "cooled": "cool",
    "cold": "cool",
    "chilled": "cool",
}
_STATE_VERBS = {
    "hot": r"heat|warm|cook|microwave",
    "clean": r"clean|wash|rinse|cleanse|scrub",
    "cool": r"cool|chill|refrigerate|freeze|cold",
}
_PLACE = r"(?:put|place|move|drop|set|leave|store|insert|bring|carry|deliver|take|return|transfer)"
_PREP = r"(?:in|on|into|onto|inside|to|at|in/on|within|onto)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("go", re.compile(r"^(?:go|walk|move|head|navigate|travel|return|come|run|proceed) (?:over )?to (?P<r>.+)$")),
    ("go", re.compile(r"^(?:visit|approach|reach|arrive at) (?P<r>.+)$")),
    (
        "examine",
        re.compile(
            r"^(?:examine|look at|inspect|check|study|view|read) (?P<o>.+?) (?:with|under|using|by|in) (?P<l>.+)$"
        ),
    ),
    ("put", re.compile(rf"^{_PLACE} (?P<o>.+?) {_PREP} (?P<r>.+)$")),
    (
        "take",
        re.compile(
            r"^(?:take|pick|grab|get|obtain|collect|fetch|hold|retrieve|acquire|lift) (?P<o>.+?)(?: from (?P<r>.+))?$"
        ),
    ),
    ("light", re.compile(r"^(?:turn on|switch on|use|toggle|light|activate|power on) (?P<o>.+)$")),
    ("light", re.compile(r"^(?:turn|switch) (?P<o>.+) on$")),
    ("open", re.compile(r"^open (?P<r>.+)$")),
    ("close", re.compile(r"^(?:close|shut) (?P<r>.+)$")),
    (
        "find",
        re.compile(r"^(?:find|locate|search for|look for|search|spot|see) (?P<o>.+?)(?: (?:in|on|at) (?P<r>.+))?$"),
    ),
] + [
    (state, re.compile(rf"^(?:{verbs})(?:ed)? (?P<o>.+?)(?: (?:with|in|using|at|on) (?P<r>.+))?$"))
    for state, verbs in _STATE_VERBS.items()
]


def normalize(text: str) -> str:
    """Lowercase, punctuation to spaces, articles and fillers dropped."""
    words = re.sub(r"[^a-z0-9/ ]+", " ", text.lower()).split()
    return " ".join(w for w in words if w not in _FILLER)


def _compact(phrase: str) -> tuple[str, str | None]:
    """'desk lamp 1' -> ('desklamp', '1'); plurals and synonyms folded."""
    words = phrase.split()
    number = words.pop() if words and words[-1].isdigit() else None
    word = "".join(words)
    word = _SYNONYMS.get(word, word)
    return word, number


def match_entities(phrase: str, view: WorldView) -> tuple[set[str], set[str]]:
    """Entities a noun phrase names, and the states its adjectives ask for ('clean mug' -> {mug 1}, {'clean'})."""
    words = phrase.split()
    states = {_ADJECTIVES[w] for w in words if w in _ADJECTIVES}
    words = [
        w for w in words if w not in _ADJECTIVES and w not in ("first", "second", "other", "another", "both", "two")
    ]
    kind, number = _compact(" ".join(words))
    if not kind:
        return set(), states
    if number is not None:
        return ({f"{kind} {number}"} & set(view.types)), states
    for candidate in (kind, kind[:-2] if kind.endswith("es") else kind, kind[:-1] if kind.endswith("s") else kind):
        exact = view.of_type(candidate)
        if exact:
            return exact, states
    loose = {e for e, t in view.types.items() if len(kind) >= 3 and (t.startswith(kind) or t.endswith(kind))}
    return loose, states


def _with_states(objects: set[str], states: set[str], view: WorldView) -> set[str]:
    return {o for o in objects if all(view.has(s, o) for s in states)}


def _judge_clause(
    clause: str, view: WorldView, taken: set[str], previous: str | None
) -> tuple[bool | None, str | None]:
    for kind, pattern in _PATTERNS:
        m = pattern.match(clause)
        if not m:
            continue
        groups = {k: v for k, v in m.groupdict().items() if v}
        if groups.get("o") in ("it", "them") and previous:
            groups["o"] = previous
        objects, states = match_entities(groups["o"], view) if "o" in groups else (set(), set())
        receps, _ = match_entities(groups["r"], view) if "r" in groups else (set(), set())
        if ("o" in groups and not objects) or (kind in ("go", "put", "open", "close") and not receps):
            return None, groups.get("o")
        objects = _with_states(objects, states, view)
        if kind == "go":
            return bool(receps & view.here), None
        if kind == "take":
            return bool(objects & taken), groups["o"]
        if kind == "put":
            moved = objects & taken
            return any(view.location_of(o) & receps for o in moved), groups["o"]
        if kind in _STATE_VERBS:
            return any(view.has(kind, o) for o in objects), groups["o"]
        if kind == "light":
            return any(view.has("toggled", o) for o in objects), None
        if kind in ("open", "close"):
            opened = any(view.has("opened", r) for r in receps)
            return opened if kind == "open" else not opened, None
        if kind == "examine":
            lamps, _ = match_entities(groups["l"], view)
            lit_here = any(view.has("toggled", lamp) and view.location_of(lamp) & view.here for lamp in lamps)
            return bool(objects & view.held) and lit_here, groups["o"]
        if kind == "find":
            visible = {o for r in view.here for o in view.contents.get(r, ())}
            return bool(objects & (view.held | visible)), groups["o"]
    return None, None


def judge_subgoal(text: str, view: WorldView, tracker: MilestoneTracker | None, taken: set[str]) -> bool | None:
    """True/False when the subgoal is understood, None when it cannot be judged."""
    clause_text = normalize(text)
    if not clause_text:
        return None
    if tracker is not None:  # the milestone names themselves ("take first cd", "place apple in fridge")
        for name, done in zip(tracker.names, tracker.done):
            if normalize(name) == clause_text or normalize(name).replace("place", "put", 1) == clause_text:
                return done
    clauses = [c.strip() for c in re.split(r"\b(?:and then|then|and|after that)\b|;|,", clause_text) if c.strip()]
    verdicts, previous = [], None
    for clause in clauses:
        verdict, obj = _judge_clause(clause, view, taken, previous)
        verdicts.append(verdict)
        previous = obj or previous
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True
