"""The layering of docs/architecture.md, checked on the import graph of the source tree.

The few-shot library (core/) sits under the app's Streamlit-free model (lab/), which sits
under the app (app.py, app_pages/, ui/); the developer tools (benchmarks/, scripts/) sit
beside. core/ never imports Streamlit, the lab, the app, the tools or a command-line module;
lab/ never imports Streamlit or the app; pages import only ui/, the lab and core's public
API; no project module takes part in an import cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "lab", "ui", "benchmarks", "scripts", "app_pages")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    files = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[module_name(path)] = path
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` imports, at module level or inside a function (a lazy import
    still runs), except under `if TYPE_CHECKING:`. `from a import b` counts as a.b when
    a.b is a module, else as a."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def is_cli(path: Path) -> bool:
    """A command-line module: it runs as `python -m ...`, or is a command of core.commands
    (what `python -m core.evaluate` and the others run)."""
    return (
        'if __name__ == "__main__":' in path.read_text()
        or path.name == "__main__.py"
        or ROOT / "core" / "commands" in path.parents
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = project_files()
    known = set(files)
    return {name: imports_of(name, path, known) for name, path in files.items()}


def library(graph: dict[str, set[str]]) -> list[str]:
    return [name for name in graph if name == "core" or name.startswith("core.")]


def test_the_graph_sees_the_library(graph):
    # Guards the checks below against passing on an empty or misread tree.
    assert {"core", "core.learner", "core.maml", "core.protonet", "core.images"} <= set(graph)
    assert "core.maml" in graph["core.learner"]


def test_the_library_never_imports_streamlit(graph):
    offenders = {
        name: sorted(i for i in graph[name] if i.split(".")[0] in ("streamlit", "st_canvas"))
        for name in library(graph)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_library_never_imports_the_app_the_tools_or_a_cli(graph):
    files = project_files()
    clis = {name for name, path in files.items() if is_cli(path)}
    outside = ("lab", "ui", "app_pages", "app", "benchmarks", "scripts", "tests")
    offenders = {}
    for name in library(graph):
        if name in clis:
            continue  # a command-line module may use another's parser; none imports it
        bad = sorted(
            i for i in graph[name] if i.split(".")[0] in outside or i in clis and i != name
        )
        if bad:
            offenders[name] = bad
    assert offenders == {}
    commands = ("train", "evaluate", "evaluate_open_set", "predict", "export", "photo", "download")
    assert {f"core.commands.{name}" for name in commands} <= clis
    # `python -m core.<name>` runs: the library packages through their __main__.py, the
    # others through a module that delegates to core.commands.
    assert {f"core.{name}.__main__" for name in commands[1:5]} <= clis
    assert {"core.train", "core.photo", "core.download"} <= clis
    # The library modules behind them are no command-line modules (pages may import them).
    assert not {f"core.{name}" for name in commands[1:5]} & clis


def test_library_modules_have_no_argparse_and_no_main(graph):
    """The command-line parts (argparse, main()) live in core.commands; core.cli is the
    preamble they share (and the flags of the training configs)."""
    files = project_files()
    offenders = []
    for name in library(graph):
        if is_cli(files[name]) or name == "core.cli":
            continue
        tree = ast.parse(files[name].read_text())
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        if "argparse" in graph[name] or mains:
            offenders.append(name)
    assert offenders == []
    # Guards the check against passing on a misread tree: the commands are seen, and parse.
    assert "core.cli" in graph["core.commands.evaluate"]
    assert {"core.evaluate", "core.export", "core.predict", "core.testlog"} <= set(graph)


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_sees_the_lab(graph):
    assert {"lab", "lab.workspace", "lab.viz", "lab.toy", "lab.embedding"} <= set(graph)
    assert not any(in_package(name, "core.workspace") for name in graph)


def test_the_lab_never_imports_streamlit_or_the_app(graph):
    banned = ("streamlit", "st_canvas", "ui", "app_pages", "app", "benchmarks", "scripts")
    offenders = {
        name: sorted(i for i in deps if i.split(".")[0] in banned)
        for name, deps in graph.items()
        if in_package(name, "lab")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_pages_import_only_ui_the_lab_and_the_public_library(graph):
    files = project_files()
    clis = {name for name, path in files.items() if is_cli(path)}
    offenders = {}
    for name, deps in graph.items():
        if not (in_package(name, "app_pages") or name == "app"):
            continue
        bad = sorted(
            i
            for i in deps
            if i in graph
            and not any(in_package(i, p) for p in ("ui", "lab", "app_pages"))
            and not (
                in_package(i, "core")
                and i not in clis
                and not in_package(i, "core.training")
                and not any(part.startswith("_") for part in i.split("."))
            )
        )
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_no_import_cycles(graph):
    internal = {name: {i for i in deps if i in graph and i != name} for name, deps in graph.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(internal[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep) :] + [dep]))
            elif dep not in state:
                walk(dep)
        stack.pop()
        state[node] = 2

    for name in sorted(internal):
        if name not in state:
            walk(name)
    assert cycles == []


def test_loading_models_imports_no_trainer_no_cli_and_no_streamlit():
    code = (
        "import sys, core\n"
        "for name in ('omniglot-protonet', 'omniglot-maml', 'photo-protonet'):\n"
        "    core.load_model(name)\n"
        "bad = ('core.train', 'core.training', 'core.evaluate', 'core.predict', 'core.photo',\n"
        "       'core.commands', 'core.testlog', 'streamlit', 'benchmarks', 'scripts')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


# The path from user bytes to a prediction, lowest first: a module may import its own layer
# and the layers under it, never one above.
LAYERS = (
    ("core.constants", "core.files", "core.tensors", "core.images"),
    ("core.encoders", "core.encoders.views", "core.encoders.efficientnet", "core.encoders.photo"),
    ("core.networks",),
    ("core.protonet", "core.maml"),
    ("core.checkpoints", "core.learner"),
)


def test_each_layer_imports_only_the_layers_under_it(graph):
    rank = {name: level for level, names in enumerate(LAYERS) for name in names}
    assert set(rank) <= set(graph), sorted(set(rank) - set(graph))
    upward = {
        name: sorted(i for i in graph[name] if rank.get(i, -1) > rank[name])
        for name in rank
        if any(rank.get(i, -1) > rank[name] for i in graph[name])
    }
    assert upward == {}
