"""The package's shape: files from before the regrouping still read the same, no import cycles,
a small top level, small modules and thin commands."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from anpr.inference import PlateReader

PACKAGE = Path(__file__).resolve().parents[1] / "anpr"
OLD = Path(__file__).resolve().parent / "fixtures" / "old_layout"


@pytest.mark.parametrize(
    "key, model",
    [
        ("tiny_checkpoint", OLD / "tiny_old_layout.ckpt"),
        ("pretrained", "pretrained-v1"),  # the shipped ONNX file, one view (pretrained is now a reader file)
        ("pretrained_checkpoint", "pretrained-checkpoint"),
    ],
)
def test_model_files_read_as_they_did_before_the_regrouping(key, model):
    """reads.json was written by the package before its modules moved (its ``written_by``): the
    shipped reader, its checkpoint and a training checkpoint of the old layout read the same."""
    recorded = json.loads((OLD / "reads.json").read_text())
    if model == "pretrained-checkpoint":
        from anpr.pretrained import FILES

        model = FILES["v1_checkpoint"]
    reads = PlateReader.from_path(model).read([OLD / name for name in recorded["images"]])
    assert [r.text for r in reads] == [r["text"] for r in recorded["reads"][key]]
    assert [round(float(r.confidence), 3) for r in reads] == pytest.approx(
        [round(r["confidence"], 3) for r in recorded["reads"][key]], abs=2e-3
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every anpr module ``path`` imports, at the top or late inside a function."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from package import module` imports that module; `from module import name`, the module
            found |= {f"{base}.{a.name}" if (modules_dir(f"{base}.{a.name}")) else base for a in node.names}
    return {name for name in found if name == "anpr" or name.startswith("anpr.")}


def modules_dir(name: str) -> bool:
    """Whether ``name`` is a module or package of anpr."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycles_late_imports_included():
    graph = import_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


SHARED_CORE = {"anpr", "anpr.contract", "anpr.charset", "anpr.errors", "anpr.lazy"}


def test_the_shared_core_does_not_reach_up_into_the_packages_that_use_it():
    graph = import_graph()
    for name in SHARED_CORE - {"anpr"}:
        assert graph[name] <= SHARED_CORE, f"{name} imports {sorted(graph[name] - SHARED_CORE)}"


def test_a_small_top_level_small_modules_and_thin_commands():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
    long = {
        str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, f"modules over 400 lines: {long}"
    commands = {p.name: n for p in (PACKAGE / "cli").glob("*.py") if (n := len(p.read_text().splitlines())) >= 150}
    assert not commands, f"command modules of 150 lines or more: {commands}"
