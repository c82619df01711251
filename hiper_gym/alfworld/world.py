"""A read-only view of an ALFWorld state from the engine's PDDL facts: who holds what, what is where, object states."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

# PDDL state predicates and the word for each.
PROPERTIES = {"isclean": "clean", "ishot": "hot", "iscool": "cool", "istoggled": "toggled", "opened": "opened"}


def type_name(pddl_type: str) -> str:
    """'AppleType' / 'appletype' -> 'apple'."""
    name = pddl_type.strip().lower()
    return name[: -len("type")] if name.endswith("type") else name


@dataclass
class WorldView:
    """Entities by their game names ('mug 1', 'fridge 1'), types ('mug', 'fridge'), contents, holdings, states."""

    types: dict[str, str] = field(default_factory=dict)  # entity -> type name
    receptacles: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)
    contents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # receptacle -> objects
    properties: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # 'hot' -> objects
    here: set[str] = field(default_factory=set)  # receptacles at the agent's location

    @classmethod
    def from_facts(cls, facts: list[tuple[str, ...]]) -> WorldView:
        """Build the view from (predicate, *argument names) facts."""
        view = cls()
        agent_at: set[str] = set()
        at_location: dict[str, set[str]] = defaultdict(set)
        for name, *args in facts:
            if name == "objecttype":
                view.types[args[0]] = type_name(args[1])
            elif name == "receptacletype":
                view.types[args[0]] = type_name(args[1])
                view.receptacles.add(args[0])
            elif name == "holds":
                view.held.add(args[1])
            elif name == "inreceptacle":
                view.contents[args[1]].add(args[0])
            elif name in PROPERTIES:
                view.properties[PROPERTIES[name]].add(args[0])
            elif name == "atlocation":
                agent_at.add(args[1])
            elif name == "receptacleatlocation":
                at_location[args[1]].add(args[0])
        view.here = {r for location in agent_at for r in at_location.get(location, ())}
        return view

    def of_type(self, kind: str) -> set[str]:
        """Entities of a type name ('apple')."""
        return {entity for entity, t in self.types.items() if t == kind}

    def location_of(self, obj: str) -> set[str]:
        """Receptacles that hold `obj`."""
        return {r for r, objects in self.contents.items() if obj in objects}

    def has(self, prop: str, entity: str) -> bool:
        """Whether `entity` is clean / hot / cool / toggled / opened."""
        return entity in self.properties.get(prop, set())
