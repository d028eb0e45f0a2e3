"""The VS Code extension's TextMate grammar (editors/vscode/syntaxes/scn.tmLanguage.json): it is
what `scenario_dsl.editor.textmate` makes from the language's own vocabulary (so it cannot drift
from the parser), its patterns compile, and vscode-tmgrammar-test, the grammar-test tool of VS
Code extensions, passes the scope assertions in editors/vscode/tests/ (when Node and the
extension's dev dependencies are installed: `.ci/run` installs them where npm is available)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.editor.lexer import KEYWORDS
from scenario_dsl.editor.textmate import grammar

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "scn.tmLanguage.json"
TOOL = EXTENSION / "node_modules" / ".bin" / "vscode-tmgrammar-test"


def test_the_shipped_grammar_is_the_generated_one() -> None:
    assert json.loads(GRAMMAR.read_text()) == grammar(), (
        "regenerate: .venv/bin/python -m scenario_dsl.editor.textmate > editors/vscode/syntaxes/scn.tmLanguage.json")


def test_the_keywords_it_highlights_are_the_grammars() -> None:
    keyword = next(p["match"] for p in grammar()["patterns"] if p.get("name") == "keyword.control.scn")
    assert set(keyword.removeprefix(r"\b(?:").removesuffix(r")\b").split("|")) == set(KEYWORDS)
    for pattern in grammar()["patterns"]:
        for key in ("match", "begin", "end"):
            if key in pattern:
                re.compile(pattern[key])  # Oniguruma's syntax is a superset of what these use


def test_the_extension_manifest_names_its_parts() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text())
    contributes = manifest["contributes"]
    assert contributes["languages"][0]["extensions"] == [".scn"]
    for part in (contributes["grammars"][0]["path"], contributes["snippets"][0]["path"],
                 contributes["languages"][0]["configuration"]):
        assert (EXTENSION / part).is_file(), part
    json.loads((EXTENSION / "snippets" / "scn.json").read_text())


@pytest.mark.skipif(not TOOL.exists() or shutil.which("node") is None,
                    reason="vscode-tmgrammar-test not installed (cd editors/vscode && npm ci)")
def test_vscode_tmgrammar_test_passes_the_scope_assertions_and_every_bundled_scenario(tmp_path: Path) -> None:
    # Each bundled scenario as a grammar test file: its header line plus the file itself. No
    # assertions in them: the tool tokenizes every line, and fails on a grammar it cannot run.
    for path in sorted(SCENARIOS.glob("*.scn")):
        (tmp_path / path.name).write_text('# SYNTAX TEST "source.scn"\n' + path.read_text())
    for target in (str(EXTENSION / "tests" / "*.scn"), str(tmp_path / "*.scn")):
        proc = subprocess.run([str(TOOL), "-g", str(GRAMMAR), target], capture_output=True, text=True, timeout=120,
                              cwd=EXTENSION)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "run successfuly" in proc.stdout


VSCE = EXTENSION / "node_modules" / ".bin" / "vsce"


@pytest.mark.skipif(not VSCE.exists() or shutil.which("node") is None,
                    reason="@vscode/vsce not installed (cd editors/vscode && npm ci)")
def test_the_extension_packages_into_a_vsix_with_its_language_client(tmp_path: Path) -> None:
    import zipfile

    out = tmp_path / "scn.vsix"
    proc = subprocess.run([str(VSCE), "package", "--allow-missing-repository", "--skip-license", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=EXTENSION)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = set(zipfile.ZipFile(out).namelist())
    for part in ("extension/extension.js", "extension/package.json", "extension/syntaxes/scn.tmLanguage.json",
                 "extension/snippets/scn.json", "extension/language-configuration.json",
                 "extension/node_modules/vscode-languageclient/node.js"):
        assert part in names, part
    assert not any(name.startswith("extension/tests/") for name in names)
    manifest = json.loads(zipfile.ZipFile(out).read("extension/package.json"))
    assert manifest["main"] == "./extension.js" and manifest["activationEvents"] == ["onLanguage:scn"]
