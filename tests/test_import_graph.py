"""The packages import downward only: no cycle among the modules' top-level imports (TYPE_CHECKING ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("hiper_gym", "hiper_agents", "training", "integrations")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges = set()
        for node in ast.parse(path.read_text()).body:  # module level only: imports inside functions are lazy
            blocks = [node]
            if isinstance(node, ast.If):  # `if TYPE_CHECKING:` and friends
                blocks = node.body + node.orelse
            for stmt in blocks:
                targets = []
                if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                    submodules = [f"{stmt.module}.{a.name}" for a in stmt.names]
                    # `from pkg import module` needs the module, not what pkg/__init__ re-exports
                    targets = submodules if all(m in files for m in submodules) else [stmt.module, *submodules]
                elif isinstance(stmt, ast.Import):
                    targets = [a.name for a in stmt.names]
                edges |= {t for t in targets if t in files and t != name}
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_among_the_packages_modules():
    graph = _graph()
    # a package's __init__ re-exports its modules: an edge from a module back to its own package's __init__ is a
    # cycle too, so none is exempt
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_update_does_not_import_the_trainer():
    assert "training.trainer" not in _graph()["training.update"]
