"""The test suite's own layout (issue 10 item 6): every test module sits in the folder of the
layer it tests, no test module imports another (shared helpers live in ``tests/support``,
shared fixtures in a ``conftest.py``), the mock model fixture is defined once, and every skip
says why."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import TESTS

#: The folders test modules live in (tests/README.md says what goes where).
FOLDERS = frozenset({
    "protocol", "rpc", "transport", "api", "core", "store", "config", "auth",
    "clients", "conformance", "suite",
})
#: Folders that hold no test modules.
NOT_TESTS = frozenset({"support", "data", "__pycache__"})


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(TESTS.parent).as_posix()


def _imported_modules(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def _is_test_module(name: str) -> bool:
    return any(part.startswith("test_") for part in name.split("."))


def test_no_test_module_imports_another() -> None:
    offenders = []
    for path in [*_test_modules(), *TESTS.rglob("conftest.py"), *TESTS.glob("support/*.py")]:
        for name in _imported_modules(ast.parse(path.read_text())):
            if name.startswith((".", "tests.")) and _is_test_module(name):
                offenders.append(f"{_rel(path)} imports {name}")
    assert offenders == [], "move the shared code to tests/support or a conftest.py"


def test_every_test_module_sits_in_its_layer_folder() -> None:
    misplaced = [_rel(p) for p in _test_modules()
                 if len(p.relative_to(TESTS).parts) != 2
                 or p.relative_to(TESTS).parts[0] not in FOLDERS]
    assert misplaced == [], f"put these in one of {sorted(FOLDERS)} (tests/README.md)"


def test_every_folder_is_a_package_and_a_known_one() -> None:
    folders = {p.name for p in TESTS.iterdir() if p.is_dir()} - NOT_TESTS
    assert sorted(folders - FOLDERS) == []
    assert sorted(f for f in FOLDERS if not (TESTS / f / "__init__.py").exists()) == []


def _fixture_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if ast.unparse(target) != "pytest.fixture":
            continue
        for keyword in call.keywords if call else []:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return node.name
    return None


def test_the_mock_model_fixture_is_defined_once() -> None:
    """``mock`` is defined in tests/conftest.py; elsewhere only as an override that takes
    the shared one (to set it up for a module)."""
    definitions = []
    for path in [*_test_modules(), *TESTS.rglob("conftest.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    _fixture_name(node) == "mock":
                takes_shared = "mock" in [a.arg for a in node.args.args]
                definitions.append((_rel(path), takes_shared))
    assert [d for d in definitions if not d[1]] == [("tests/conftest.py", False)]


def test_every_skip_says_why() -> None:
    """A test that needs an optional tool skips with the reason, never silently."""
    silent = []
    for path in [*_test_modules(), *TESTS.rglob("conftest.py"), *TESTS.glob("support/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            keywords = {k.arg for k in node.keywords}
            no_reason = "reason" not in keywords
            if name == "pytest.mark.skipif":
                silent_here = no_reason
            else:
                silent_here = name in ("pytest.skip", "pytest.mark.skip") and not node.args \
                    and no_reason and "msg" not in keywords
            if silent_here:
                silent.append(f"{_rel(path)}:{node.lineno}")
    assert silent == []
