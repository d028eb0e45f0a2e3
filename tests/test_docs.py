"""The documentation is tested: every ```scn block of docs/language.md and docs/diagnostics.md.

Fence info strings say what a block is and what is expected of it:

docs/language.md
    ```scn            a complete scenario (its first statement is `scenario`): validates with no
                      errors. Otherwise a fragment: it parses, and inserted into the page's base
                      scenario (below) it validates with no errors.
    ```scn base       the base scenario that fragments are read against; validates cleanly.
    ```scn error      a deliberate mistake: it must produce at least one error diagnostic.
    ```scn parse-only a fragment that is only parsed (it needs files or names the page does not give).
    ```LANG file=NAME a file written next to the examples (an included .scn file, a model file);
                      a .scn file must parse.

docs/diagnostics.md, per `## SCNxxx` section
    ```scn example    must produce a diagnostic with the section's code.
    ```scn fixed      the example corrected: no errors, and not the section's code.
    ```scn compiler   a scenario the front end accepts (no errors); the compiler reports the code.
    ```LANG file=NAME written into that section's folder before its examples run.
    `param=NAME=VALUE` in an info string passes a `--param` override.

Fragments are inserted into the base scenario: the base's `plant`, `action`, `reward`, `episode`
and `train` statements are left out when the fragment has its own (a line starting with the
keyword), and the fragment is appended. Each example is written to `example.scn` in a temporary
project folder (with `scn.toml`), so includes and model files resolve next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scenario_dsl.lang.diagnostics import CODES, Diagnostic, Severity
from scenario_dsl.lang.loader import analyze_file, analyze_text, decode_source, parse_source, read_source
from scenario_dsl.lang.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = ROOT / "docs" / "language.md"
DIAGNOSTICS = ROOT / "docs" / "diagnostics.md"

SECTION_KEYWORDS = ("plant", "action", "reward", "episode", "train")
LANGUAGE_FLAGS = {"base", "error", "parse-only"}
DIAGNOSTIC_FLAGS = {"example", "fixed", "compiler"}
# Codes without a ```scn example: whole-file problems (checked in test_file_level_codes),
# codes reported only by the compiler or on internal errors, and codes no stage reports yet.
# Codes found after lint (by a build, a draw, a run) or without a scenario file: no ```scn example.
NO_SCN_EXAMPLE = {"SCN001", "SCN002", "SCN003", "SCN007", "SCN008", "SCN009", "SCN106", "SCN408", "SCN411", "SCN505",
                  "SCN506", "SCN508", "SCN601", "SCN602", "SCN603", "SCN604", "SCN605", "SCN606", "SCN901",
                  "SCN010",  # 65 nested files: tested in tests/lang/test_untrusted_paths.py
                  "SCN011",  # a pyproject.toml or scn.toml: tested in tests/lang/test_formatter_width.py
                  # Invisible characters: an example would hide them in this page too; the page
                  # spells them out, and tests/lang/test_text_hazards.py has the examples.
                  "SCN107", "SCN108"}


@dataclass
class Block:
    lang: str
    flags: set[str]
    options: dict[str, str]
    params: dict[str, str]
    text: str
    line: int
    section: str

    @property
    def where(self) -> str:
        return f"line {self.line} ({self.section or 'top'})"


@dataclass
class Page:
    blocks: list[Block] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # `## ` heading -> its text


def read_page(path: Path) -> Page:
    """The fenced blocks of a Markdown file, each with the `## ` section it stands in."""
    page = Page()
    section = ""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
            page.sections[section] = ""
        if line.startswith("```"):
            info = line[3:].split()
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            assert i < len(lines), f"{path.name}: unclosed code fence at line {start}"
            flags, options, params = set(), {}, {}
            for token in info[1:]:
                key, eq, value = token.partition("=")
                if key == "param" and eq:
                    name, _, given = value.partition("=")
                    params[name] = given
                elif eq:
                    options[key] = value
                else:
                    flags.add(token)
            page.blocks.append(Block(info[0] if info else "", flags, options, params,
                                     "\n".join(lines[start:i]) + "\n", start, section))
        elif section:
            page.sections[section] += line + "\n"
        i += 1
    return page


def is_complete(text: str) -> bool:
    """A complete scenario: its first statement (after comments and blank lines) is `scenario`."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return re.match(r"scenario\b", stripped) is not None
    return False


def with_base(base: str, fragment: str) -> str:
    """The fragment inserted into the base scenario (see the module docstring)."""
    own = {m.group(1) for m in re.finditer(rf"^({'|'.join(SECTION_KEYWORDS)})\b", fragment, re.M)}
    kept = [line for line in base.splitlines() if not any(re.match(rf"{k}\b", line) for k in own)]
    return "\n".join(kept) + "\n" + fragment


def analyze(text: str, folder: Path, params: dict[str, str] | None = None) -> list[Diagnostic]:
    path = folder / "example.scn"
    path.write_text(text, encoding="utf-8")
    return analyze_text(text, str(path), base_dir=folder, params=params).diagnostics


def parse(text: str) -> list[Diagnostic]:
    _, diagnostics = parse_source(SourceFile("<doc>", text))
    return diagnostics


def errors(diagnostics: list[Diagnostic]) -> list[str]:
    return [f"{d.code} {d.line}:{d.column} {d.message}" for d in diagnostics if d.level is Severity.ERROR]


def project(folder: Path, blocks: list[Block]) -> Path:
    """A project folder holding the `file=` blocks."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scn.toml").write_text("", encoding="utf-8")
    for block in blocks:
        if "file" in block.options:
            target = folder / block.options["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
    return folder


def base_of(page: Page, name: str) -> str:
    bases = [b for b in page.blocks if b.lang == "scn" and "base" in b.flags]
    assert len(bases) == 1, f"{name} needs exactly one ```scn base block, has {len(bases)}"
    return bases[0].text


# ---- docs/language.md -----------------------------------------------------------------------

LANGUAGE_PAGE = read_page(LANGUAGE)
LANGUAGE_BLOCKS = [b for b in LANGUAGE_PAGE.blocks if b.lang == "scn"]


@pytest.fixture(scope="module")
def language_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project(tmp_path_factory.mktemp("language"), LANGUAGE_PAGE.blocks)


def test_language_has_scn_examples() -> None:
    assert len(LANGUAGE_BLOCKS) > 40


def test_language_base_is_clean(language_project: Path) -> None:
    base = base_of(LANGUAGE_PAGE, "language.md")
    assert is_complete(base)
    assert analyze(base, language_project) == []


@pytest.mark.parametrize("block", LANGUAGE_BLOCKS, ids=lambda b: f"line{b.line}")
def test_language_example(block: Block, language_project: Path) -> None:
    unknown = block.flags - LANGUAGE_FLAGS
    assert not unknown, f"{block.where}: unknown fence flags {unknown}"
    assert not block.params, f"{block.where}: param= is for docs/diagnostics.md"
    if "file" in block.options:
        assert not parse(block.text), f"{block.where}: file {block.options['file']} does not parse"
        return
    if "base" in block.flags:
        return  # test_language_base_is_clean
    base = base_of(LANGUAGE_PAGE, "language.md")
    complete = is_complete(block.text)
    if "error" in block.flags:
        found = parse(block.text)
        if not found:
            found = analyze(block.text if complete else with_base(base, block.text), language_project)
        assert errors(found), f"{block.where}: marked `error`, but it has no error:\n{block.text}"
        return
    syntax = parse(block.text)
    assert not syntax, f"{block.where}: does not parse: {[d.message for d in syntax]}\n{block.text}"
    if "parse-only" in block.flags:
        return
    found = analyze(block.text if complete else with_base(base, block.text), language_project)
    assert not errors(found), f"{block.where}: {errors(found)}\n{block.text}"
    assert not any(d.code.startswith("SCN9") for d in found)


def test_language_covers_the_vocabulary() -> None:
    """Every function, distribution, unit, constant, joint type, shape, algorithm and signal
    that the front end knows appears in the reference (in backquotes)."""
    from scenario_dsl.lang import validate
    from scenario_dsl.lang.names import BODY_ATTRS, JOINT_ATTRS, PLANT_ATTRS, RANDOM_TARGETS, RESERVED
    from scenario_dsl.lang.typecheck import CONSTANTS, FUNCTIONS
    from scenario_dsl.lang.units import UNITS

    text = LANGUAGE.read_text(encoding="utf-8")
    words: set[str] = set()
    words |= {f"{name}(" for name in FUNCTIONS}
    words |= {f"{name}(" for name in validate._DIST_ARGS}
    words |= {f"{name}(" for name in validate._SHAPES}
    words |= set(UNITS) | set(CONSTANTS) | set(RESERVED) | set(validate._ALGOS)
    words |= set(validate._JOINT_TYPES) | set(validate._CONTACT_MODELS) | set(validate._APPROXIMATIONS)
    words |= set(BODY_ATTRS) | set(PLANT_ATTRS) | {a for attrs in JOINT_ATTRS.values() for a in attrs}
    words |= {a for attrs in RANDOM_TARGETS.values() for a in attrs}
    # in backquotes, as a word of its own or after a dot: `pi`, `B.position`, `sin(x)`
    missing = sorted(w for w in words if not re.search(rf"`[^`\n]*(?<![A-Za-z0-9_]){re.escape(w)}", text))
    assert not missing, f"docs/language.md does not mention: {missing}"


def test_language_has_functions_anchor() -> None:
    # The SCN205 hint points at docs/language.md#functions.
    assert re.search(r"^#{2,4} Functions$", LANGUAGE.read_text(encoding="utf-8"), re.M)


# ---- docs/diagnostics.md --------------------------------------------------------------------

DIAGNOSTICS_PAGE = read_page(DIAGNOSTICS)
CODE_SECTION = re.compile(r"(SCN\d{3})\b")


def _code_of(section: str) -> str | None:
    match = CODE_SECTION.match(section)
    return match.group(1) if match else None


def _diagnostic_cases() -> list[Block]:
    return [b for b in DIAGNOSTICS_PAGE.blocks if b.lang == "scn" and not ({"base"} & b.flags)
            and "file" not in b.options]


def test_every_code_has_a_section() -> None:
    codes = [c for c in (_code_of(s) for s in DIAGNOSTICS_PAGE.sections) if c]
    assert sorted(set(codes)) == sorted(codes), "a code has two sections"
    assert set(codes) == set(CODES), (f"missing: {sorted(set(CODES) - set(codes))}, "
                                      f"unknown: {sorted(set(codes) - set(CODES))}")


@pytest.mark.parametrize("code", list(CODES))
def test_section_states_severity_and_summary(code: str) -> None:
    heading = next(s for s in DIAGNOSTICS_PAGE.sections if _code_of(s) == code)
    body = DIAGNOSTICS_PAGE.sections[heading]
    severity, summary = CODES[code]
    assert heading == f"{code} — {summary}", f"heading `## {heading}`; CODES says `{code} — {summary}`"
    match = re.search(r"\*\*Severity:\*\* (error|warning)", body)
    assert match, f"{code}: no **Severity:** line"
    assert match.group(1) == str(severity), f"{code}: the page says {match.group(1)}, CODES says {severity}"


@pytest.mark.parametrize("code", sorted(set(CODES) - NO_SCN_EXAMPLE))
def test_code_has_an_example(code: str) -> None:
    assert any(_code_of(b.section) == code and "example" in b.flags for b in DIAGNOSTICS_PAGE.blocks), \
        f"{code}: no ```scn example block"


@pytest.mark.parametrize("block", _diagnostic_cases(), ids=lambda b: f"{_code_of(b.section)}-line{b.line}")
def test_diagnostic_example(block: Block, tmp_path: Path) -> None:
    code = _code_of(block.section)
    assert code in CODES, f"{block.where}: a ```scn block outside a `## SCNxxx` section"
    kinds = block.flags & DIAGNOSTIC_FLAGS
    assert len(kinds) == 1 and block.flags <= DIAGNOSTIC_FLAGS, \
        f"{block.where}: tag it with one of {sorted(DIAGNOSTIC_FLAGS)} (has {sorted(block.flags)})"
    folder = project(tmp_path, [b for b in DIAGNOSTICS_PAGE.blocks if b.section == block.section])
    base = base_of(DIAGNOSTICS_PAGE, "diagnostics.md")
    text = block.text if is_complete(block.text) else with_base(base, block.text)
    found = parse(block.text) or analyze(text, folder, block.params or None)
    codes = [d.code for d in found]
    if "example" in block.flags:
        assert code in codes, f"{block.where}: expected {code}, got {codes}:\n{block.text}"
    else:  # fixed, compiler
        assert not errors(found) and code not in codes, f"{block.where}: {errors(found) or codes}\n{block.text}"


def test_diagnostics_base_is_clean(tmp_path: Path) -> None:
    base = base_of(DIAGNOSTICS_PAGE, "diagnostics.md")
    assert analyze(base, project(tmp_path, [])) == []


def test_diagnostic_files_parse() -> None:
    for block in DIAGNOSTICS_PAGE.blocks:
        if block.lang == "scn" and "file" in block.options:
            assert not parse(block.text), f"{block.where}: {block.options['file']} does not parse"


def test_file_level_codes(tmp_path: Path) -> None:
    """The whole-file codes, as docs/diagnostics.md describes them (no ```scn example there)."""
    assert [d.code for d in analyze_file(tmp_path / "missing.scn").diagnostics] == ["SCN001"]
    assert [d.code for d in analyze_file(tmp_path).diagnostics] == ["SCN001"]  # a folder
    assert [d.code for d in decode_source("bad.scn", b'scenario s "caf\xe9"\n')[1]] == ["SCN002"]
    assert [d.code for d in decode_source("nul.scn", b"scenario s\x00\n")[1]] == ["SCN002"]
    big = tmp_path / "big.scn"
    with big.open("wb") as f:
        f.truncate(6 * 1024 * 1024)
    assert [d.code for d in read_source(big)[1]] == ["SCN003"]
    # An included file that is not UTF-8 is reported too.
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "latin1.scn").write_bytes(b"# caf\xe9\n")
    found = analyze_text('include "latin1.scn"\n', str(tmp_path / "main.scn"), base_dir=tmp_path).diagnostics
    assert [d.code for d in found] == ["SCN002"]


def test_empty_folder_warns(tmp_path: Path) -> None:
    """SCN007 comes from the command line's folder expansion."""
    cli = pytest.importorskip("scenario_dsl.cli")
    found = cli.expand_paths([str(tmp_path)])[1]
    assert [(d.code, d.level) for d in found] == [("SCN007", Severity.WARNING)]
