"""The package layout: the product never imports what measures it, and its modules import one way (no cycles)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement in the file (at any depth, lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _graph(package: str) -> dict[str, set[str]]:
    files = {_module_name(path): path for path in (ROOT / package).rglob("*.py")}
    return {name: {dep for dep in _imports(path) if dep in files and dep != name} for name, path in files.items()}


def test_the_product_never_imports_the_lab():
    offenders = {
        _module_name(path): sorted(name for name in _imports(path) if name.split(".")[0] == "denoise_lab")
        for path in (ROOT / "denoise").rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return [*path[path.index(child) :], child] if child in path else [node, child]
            if child not in state:
                found = visit(child, [*path, child])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_imports_point_one_way():
    for package in ("denoise", "denoise_lab"):
        graph = _graph(package)
        # a package's __init__ re-exporting its own modules is not a cycle of the design
        graph = {name: {dep for dep in deps if not name.startswith(dep + ".")} for name, deps in graph.items()}
        assert _cycle(graph) is None, f"import cycle in {package}: {' -> '.join(_cycle(graph))}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
