"""Fail when modules of one package import each other, directly or round a longer loop.

The layer contracts in pyproject.toml keep the packages pointing one way; inside a package
nothing did, and a function-local import hides a loop from a reader (and from import-time
errors) until the two modules can no longer be changed apart. Every import counts here,
at module level or inside a function, since either makes the two modules one unit.
Run by ``make lint``: ``python .ci/check_import_cycles.py``.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent

# Loops known today and being taken apart in their own change; each entry is exactly one
# pair, and a loop that differs from it in any module still fails. Remove an entry once
# its loop is gone (a line below says so when one is).
ALLOWED: set[frozenset[str]] = set()  # a cycle allowed for a while is named here, with why


def root_packages() -> list[str]:
    """The packages import-linter checks, read from pyproject.toml so the two never differ."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["root_packages"])


def internal_imports(graph: grimp.ImportGraph, packages: list[str]) -> dict[str, set[str]]:
    """Each module's imports of other modules of the same top-level package."""
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        top = module.split(".")[0]
        if top not in packages:
            continue
        targets = graph.find_modules_directly_imported_by(module)
        edges[module] = {t for t in targets if t.split(".")[0] == top and t != module}
    return edges


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main() -> int:
    packages = root_packages()
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*packages, cache_dir=None)
    cycles = find_cycles(internal_imports(graph, packages))
    failing = [c for c in cycles if frozenset(c) not in ALLOWED]
    for gone in sorted(ALLOWED - {frozenset(c) for c in cycles}, key=sorted):
        print(f"note: {' <-> '.join(sorted(gone))} no longer import each other; drop it from ALLOWED")
    for cycle in failing:
        print(f"import cycle: {' <-> '.join(cycle)}", file=sys.stderr)
    if failing:
        print(f"{len(failing)} import cycle(s) inside a package; break each one", file=sys.stderr)
        return 1
    allowed = f" beyond the {len(ALLOWED)} allowed" if ALLOWED else ""
    print(f"no import cycles inside {', '.join(packages)}{allowed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
