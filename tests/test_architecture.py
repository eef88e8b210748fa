"""The shape of the core, checked by walking every import (lazy ones inside functions included).

- area modules never import the ``Workbench`` facade, the faces (CLI, UI) or a UI toolkit;
- the areas depend on each other without cycles: library ← generation, library ← review ← export,
  and everything may use the project's parts (ledger, store, lineage, plugins, imaging…).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import workbench

ROOT = Path(workbench.__file__).parent
AREAS = ("library", "generation", "review", "export", "reports", "lineage", "fidelity", "executor", "models")
FACES = ("workbench.facade", "workbench.ui", "workbench.cli")
TOOLKITS = ("panel", "bokeh", "ipywidgets")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports anywhere in its body."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "workbench" and parts[1] in AREAS else None


def _core_modules() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for area in AREAS if (ROOT / area).exists()
            for p in (ROOT / area).rglob("*.py")}


def test_area_modules_import_no_facade_face_or_toolkit():
    offenders = {mod: sorted(i for i in imports if i.startswith(FACES) or i.split(".")[0] in TOOLKITS)
                 for mod, imports in _core_modules().items()}
    assert {m: bad for m, bad in offenders.items() if bad} == {}


def test_areas_depend_on_each_other_without_cycles():
    graph: dict[str, set[str]] = {a: set() for a in AREAS}
    for mod, imports in _core_modules().items():
        src = _area_of(mod)
        for imp in imports:
            dst = _area_of(imp)
            if src and dst and dst != src:
                graph[src].add(dst)
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend([*path, node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*path, node]):
                return True
        state[node] = 2
        return False

    for area in AREAS:
        if state.get(area) is None and visit(area, []):
            break
    assert not cycle, f"import cycle between areas: {' -> '.join(cycle)}"
    assert not graph["library"] & {"generation", "review", "export", "reports"}, graph["library"]
    assert "export" not in graph["review"], graph["review"]


def test_the_facade_is_small():
    """``Workbench`` is a thin facade: services plus a handful of notebook verbs."""
    public = [n for n in vars(workbench.Workbench) if not n.startswith("_")]
    assert len(public) <= 25, public


def test_every_type_ignore_names_its_code_and_its_reason():
    """No silenced type error without saying which one and why (issue 10: types are checked)."""
    root = Path(workbench.__file__).resolve().parent.parent
    bare = []
    for path in [*root.joinpath("workbench").rglob("*.py"), *root.joinpath("extensions").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "type: ignore" in line and not re.search(r"type: ignore\[[a-z-]+(, *[a-z-]+)*\]\s+#\s*\S", line):
                bare.append(f"{path.relative_to(root)}:{number}")
    assert not bare, f"type: ignore without [code] and '# reason': {bare}"
