"""The architecture, checked: the layers of pyproject.toml's import-linter contracts hold, no stage
reaches a later one behind a function-level import, every module stays readable in one sitting,
and docs/architecture.md names only modules that exist."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scenario_dsl"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed beside this interpreter")
def test_the_import_contracts_hold() -> None:
    proc = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    kept = re.findall(r"^(.+?)\s*KEPT", proc.stdout, flags=re.MULTILINE)
    assert len(kept) == 3, proc.stdout  # the pipeline's layers and both forbidden contracts


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed beside this interpreter")
def test_the_layers_contract_catches_an_import_from_a_later_stage(tmp_path: Path) -> None:
    """The contract is live, not a list nobody reads: a copy of the package where the sampler
    imports the runtime fails it."""
    copy = tmp_path / "tree"
    copy.mkdir()
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy / "scenario_dsl")], check=True)
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    sampler = copy / "scenario_dsl" / "sampling" / "sampler.py"
    sampler.write_text(sampler.read_text() + "\nfrom scenario_dsl.runtime import env as _later  # noqa\n")
    proc = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "scenario_dsl.sampling is not allowed to import scenario_dsl.runtime" in proc.stdout


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("scenario_dsl"):
                    found.append((inner.lineno, inner.module or ""))
    return found


def test_function_level_imports_of_scn_modules_say_why() -> None:
    """A function-level import of scn's own modules is there for start-up time only, and says so
    with a comment on its line; the command line imports each stage when its command runs (its
    module docstring says so), so `scn lint` starts without Drake."""
    unexplained = []
    for path in _modules():
        if path.parent.name == "cli":
            continue
        lines = path.read_text().splitlines()
        for lineno, module in _function_level_imports(path):
            if "#" not in lines[lineno - 1]:
                unexplained.append(f"{path.relative_to(ROOT)}:{lineno}: {module}")
    assert not unexplained, "function-level imports without a reason:\n" + "\n".join(unexplained)


def test_every_module_reads_in_one_sitting() -> None:
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES and "one piece" not in (ast.get_docstring(
                ast.parse(p.read_text())) or "")]
    assert not long, f"modules over {MAX_LINES} lines whose docstring does not say why they are one piece: {long}"


def test_every_module_says_what_it_is() -> None:
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing, f"modules without a docstring: {missing}"


def _named_modules(text: str) -> set[str]:
    paths = set(re.findall(r"scenario_dsl/[\w/]+\.py", text))
    dotted = {m.rstrip(".") for m in re.findall(r"\bscenario_dsl(?:\.\w+)+", text)}
    return paths | dotted


def _exists(name: str) -> bool:
    if name.endswith(".py"):
        return (ROOT / name).is_file()
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):  # `scenario_dsl.lang.model.Scenario`: a module, then a name in it
        base = ROOT.joinpath(*parts[:cut])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            rest = parts[cut:]
            if not rest:
                return True
            module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
            return re.search(rf"^(class|def)?\s*{re.escape(rest[0])}\b|\b{re.escape(rest[0])}\s*[:=]",
                             module.read_text(), flags=re.MULTILINE) is not None
    return False


def test_architecture_doc_names_only_modules_that_exist() -> None:
    doc = ROOT / "docs" / "architecture.md"
    names = _named_modules(doc.read_text())
    assert len(names) >= 20, f"docs/architecture.md names only {len(names)} modules"
    missing = sorted(n for n in names if not _exists(n))
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_architecture_doc_lists_every_stage_of_the_layers_contract() -> None:
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for layer in layers:
        for package in layer.split("|"):
            assert package.strip() in doc or package.strip().replace(".", "/") in doc, package


def test_the_module_index_lists_every_module() -> None:
    """docs/architecture.md's module index cannot fall behind the tree."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    index = doc[doc.index("## Module index"):]
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if p.name != "__main__.py" and f"`{p.relative_to(ROOT)}`" not in index]
    assert not missing, f"docs/architecture.md's module index lacks: {missing}"
