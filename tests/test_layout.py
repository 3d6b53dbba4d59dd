"""The package's layout: folders in one order, imports only downward (one known exception), no circles.

Pure static analysis of the source (every ``import``, deferred ones included), so it runs in a blink.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "poseclass"
# Bottom to top: a folder may import from its own level and below. The shared modules at the top of
# the package (errors, extras, files, quiet, images) are the ground floor; ``__main__`` is the CLI's.
FLOORS = ("", "pose", "classify", "video", "data", "training", "deploy", "cli")
LEVEL = {"": 0, "pose": 1, "classify": 2, "video": 3, "data": 3, "training": 4, "deploy": 5, "cli": 6}
# The one import that runs back up: `train` also writes the deploy files (deploy builds on a trained model).
ALLOWED_UP = {("poseclass.training.train", "poseclass.deploy.bundle")}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] == "__main__" or parts[1] not in LEVEL:
        return "cli" if module == "poseclass.__main__" else ""
    return parts[1]


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The poseclass modules ``path`` imports (a name imported from a package counts as its module if it is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("poseclass")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("poseclass"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found & modules


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) - {name} for name, path in files.items()}


def test_imports_run_down_the_floors():
    graph = _graph()
    assert "poseclass.pose.detector" in graph["poseclass.classify.pipeline"]  # deferred imports are read too
    up = sorted((source, target) for source, targets in graph.items() for target in targets
                if LEVEL[_room(target)] > LEVEL[_room(source)] and (source, target) not in ALLOWED_UP)
    assert up == []


def test_no_import_circle():
    graph = _graph()
    # Tarjan's strongly connected components: any component of more than one module is a circle.
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_every_folder_is_a_floor():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders == set(FLOORS) - {""}
