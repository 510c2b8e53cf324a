"""Layers that point down (issue 14): declarations → platform → stages → flows → the command line.

Every import of a project module — at the top of a file or inside a function — must go to the same layer or
a lower one; declarations import no other layer; and no two modules import each other, even through others.
The layer of a module is the most specific entry of LAYERS that names it or a package above it.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("evalprep", "expectations", "tasks", "flows", "demo")

DECLARATIONS, PLATFORM, STAGES, FLOWS, ENTRY = range(5)
LAYER_NAMES = ["declarations", "platform", "stages", "flows", "entry"]
LAYERS = {
    # declarations: the catalogue, the submission template and vocabulary, ID and week rules
    "expectations.catalogue": DECLARATIONS,
    "expectations.vocabulary": DECLARATIONS,
    "evalprep.template": DECLARATIONS,
    "evalprep.idcard": DECLARATIONS,
    "evalprep.weeks": DECLARATIONS,
    "evalprep.inspection": DECLARATIONS,
    "tasks.ledger_ids": DECLARATIONS,
    # platform: settings, files, locks, errors, redaction, the inbox
    "evalprep": PLATFORM,
    # stages: pure work on frames and files, and the GX suites built from the catalogue
    "tasks": STAGES,
    "expectations": STAGES,
    # flows: run wiring and Prefect
    "flows": FLOWS,
    # the command line and the demo county generator (a source-checkout tool, not in the wheel)
    "flows.cli": ENTRY,
    "demo": ENTRY,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def project_imports(path: Path) -> set[str]:
    """Modules of the project this file imports (absolute and relative, anywhere in the file)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: list[str]) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from pkg import sub` imports the module pkg.sub when it exists
            names = [module] + [f"{module}.{a.name}" for a in node.names if _is_module(f"{module}.{a.name}")]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] in PROJECT}
    return found


def prefect_imports(source: str) -> list[str]:
    """Every import of Prefect (or its extensions) in a source text, top-level or inside a function."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
    return [n for n in names if n.split(".")[0] in ("prefect", "prefect_dask")]


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def sources() -> dict[str, Path]:
    return {module_name(p): p for top in PROJECT for p in sorted((ROOT / top).rglob("*.py"))}


def graph() -> dict[str, set[str]]:
    return {name: project_imports(path) for name, path in sources().items()}


def test_every_import_points_down_or_sideways():
    upward = []
    for module, imports in graph().items():
        for target in imports:
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYER_NAMES[layer_of(module)]}) imports {target} "
                              f"({LAYER_NAMES[layer_of(target)]})")
    assert not upward, "\n".join(sorted(upward))


def test_declarations_import_no_other_layer():
    leaks = [f"{m} imports {t}" for m, imports in graph().items() if layer_of(m) == DECLARATIONS
             for t in imports if layer_of(t) != DECLARATIONS]
    assert not leaks, "\n".join(sorted(leaks))


def test_only_flows_import_prefect():
    """Stages, platform and declarations never import Prefect: flows/prefect_tasks.py declares every task over their
    plain functions (the render worker processes import the rendering code and never load Prefect)."""
    found = [f"{m}: {', '.join(prefect_imports(p.read_text(encoding='utf-8')))}" for m, p in sources().items()
             if layer_of(m) < FLOWS and prefect_imports(p.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)
    assert sorted(prefect_imports("def f():\n    from prefect.artifacts import x\nimport prefect_dask\n")) == [
        "prefect.artifacts", "prefect_dask"]


def test_no_flow_module_is_named_like_a_top_level_package():
    """Prefect loads a deployment's entrypoint (flows/weekly.py) as a script with flows/ on sys.path: a module
    flows/tasks.py then shadows the tasks package in the served flow run (found by test_prefect_server)."""
    shadowing = sorted(p.stem for p in (ROOT / "flows").glob("*.py") if p.stem in PROJECT)
    assert not shadowing, shadowing


def test_no_import_cycles():
    edges = graph()
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_scan_sees_lazy_relative_and_submodule_imports():
    """The checks above are only as good as the import scan."""
    source = ("import numpy\n"
              "def f():\n    from flows.weekly import weekly_county_run\n"
              "from . import html\nfrom ..assess import Readiness\nfrom tasks import render\n")
    assert imports_in(source, ["tasks", "render"]) == {
        "flows.weekly", "tasks.render", "tasks.render.html", "tasks", "tasks.assess"}
    assert layer_of("flows.cli") == ENTRY and layer_of("flows.weekly") == FLOWS
    assert layer_of("tasks.render.pdf") == STAGES and layer_of("expectations.catalogue") == DECLARATIONS


def test_the_wheel_carries_only_the_product():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(p.split(".")[0].rstrip("*") == "demo" for p in packages["include"])
    assert not (ROOT / "evalprep" / "demo").exists() and not (ROOT / "tasks" / "render" / "preview.py").exists()
