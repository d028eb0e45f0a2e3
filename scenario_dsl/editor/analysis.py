"""What the language server answers, computed from the front end's analysis of one document:
diagnostics, the declaration a name refers to, its references, hover text, the outline,
completions and quick fixes. Pure functions of text (no LSP types): `editor.server` turns them
into the protocol's messages.

Positions here are 0-based lines and columns in characters of the line; `server` converts them
to the client's UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic, Severity
from scenario_dsl.lang.loader import Analysis, analyze_text
from scenario_dsl.lang.model import DISTRIBUTIONS
from scenario_dsl.lang.names import BODY_ATTRS, FRAME_ATTRS, JOINT_ATTRS, RANDOM_TARGETS
from scenario_dsl.lang.parser import _STATEMENT_KEYWORDS as STATEMENT_KEYWORDS
from scenario_dsl.lang.source import Span
from scenario_dsl.lang.units import UNITS, describe

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A declaration statement's kind, as hover and the outline name it.
KINDS: dict[type, str] = {
    ast.BodyDecl: "body", ast.JointDecl: "joint", ast.FrameDecl: "frame", ast.ModelDecl: "model",
    ast.ControllerDecl: "controller", ast.MarkerDecl: "marker", ast.CameraDecl: "camera", ast.LightDecl: "light",
    ast.ActionDecl: "action", ast.ObservationDecl: "observation", ast.Param: "param", ast.Let: "let",
}
DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")


@dataclass(frozen=True)
class Place:
    """A range in a file: its path, and 0-based (line, column) of its start and end."""

    path: str
    start: tuple[int, int]
    end: tuple[int, int]

    @staticmethod
    def of(span: Span) -> Place:
        (line, column), (end_line, end_column) = span.source.line_col(span.start), span.end_line_col
        return Place(span.path, (line - 1, column - 1), (end_line - 1, end_column - 1))


@dataclass(frozen=True)
class Declared:
    """A declared name: what it is, where its name is written, and the statement."""

    name: str
    kind: str
    place: Place
    node: ast.Node


def analyze(text: str, path: str) -> Analysis:
    """The front end's analysis of a document's text, its includes read from its folder."""
    return analyze_text(text, path, base_dir=Path(path).parent)


def diagnostics_by_file(analysis: Analysis, path: str) -> dict[str, list[Diagnostic]]:
    """The diagnostics of a document, by the file they are in (an include's problems are its own
    file's); the document itself always has an entry, so that fixed problems are cleared."""
    found: dict[str, list[Diagnostic]] = {path: []}
    for diagnostic in analysis.diagnostics:
        found.setdefault(diagnostic.file if diagnostic.span is not None else path, []).append(diagnostic)
    return found


def severity_name(diagnostic: Diagnostic) -> str:
    return {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(diagnostic.level, "information")


def declarations(analysis: Analysis) -> dict[str, Declared]:
    """Every declared name of the scenario and its includes, the first declaration of each."""
    found: dict[str, Declared] = {}
    for file in analysis.files:
        for statement in file.statements:
            kind = KINDS.get(type(statement))
            name = getattr(statement, "name", None)
            if kind is not None and isinstance(name, ast.Ident):
                found.setdefault(name.name, Declared(name.name, kind, Place.of(name.span), statement))
            if isinstance(statement, ast.RandomizeBlock):
                for item in statement.items:
                    if isinstance(item, ast.Let):
                        found.setdefault(item.name.name, Declared(item.name.name, "let (drawn)",
                                                                  Place.of(item.name.span), item))
            if isinstance(statement, ast.CurriculumBlock) and statement.stages:  # the first stage declares them
                for setting in statement.stages[0].settings:
                    found.setdefault(setting.key.name, Declared(setting.key.name, "curriculum variable",
                                                                Place.of(setting.key.span), setting))
    return found


def word_at(text: str, line: int, column: int) -> tuple[str, int, int] | None:
    """The name under (line, column), with its start and end columns; a dotted name's part."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    for match in WORD.finditer(lines[line]):
        if match.start() <= column <= match.end():
            return match.group(), match.start(), match.end()
    return None


def owner_before(line: str, column: int) -> str | None:
    """The name before the `.` that precedes the word under `column` (`box` in `box.mass`)."""
    match = None
    for match in WORD.finditer(line):
        if match.start() <= column <= match.end():
            break
    else:
        return None
    before = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.$", line[:match.start()])
    return before.group(1) if before else None


def references(analysis: Analysis, name: str) -> list[Place]:
    """Where `name` is used as the head of a reference, and where it is declared."""
    places = []
    declared = declarations(analysis).get(name)
    if declared is not None:
        places.append(declared.place)
    for file in analysis.files:
        for node in file.walk():
            if isinstance(node, ast.Ref) and node.parts[0].name == name:
                places.append(Place.of(node.parts[0].span))
    return places


def hover(analysis: Analysis, name: str) -> str | None:
    """Markdown for a hovered name: its kind and declaration, and what the validator resolved
    (a parameter's value in SI units, an observation's size, a body's mass)."""
    declared = declarations(analysis).get(name)
    if declared is None:
        if name in STATEMENT_KEYWORDS:
            return f"**{name}**: a statement keyword (docs/language.md, `{name}`)"
        if name in DISTRIBUTIONS:
            return (f"**distribution** `{name}({', '.join(DISTRIBUTIONS[name])})`: drawn in `randomize` blocks "
                    "(docs/language.md, Distributions)")
        if name in UNITS:
            factor, dim = UNITS[name]
            return f"**unit** `{name}`: {factor:g} in SI units of {describe(dim)}"
        return None
    text = declared.node.span.text
    first = text.splitlines()[0] if text else ""
    lines = [f"**{declared.kind}** `{name}`", "", "```scn", first if len(first) < 200 else first[:200] + " ...",
             "```"]
    scenario = analysis.scenario
    if scenario is not None:
        if declared.kind == "param" and name in scenario.params:
            lines.append(f"value: `{scenario.params[name]}` (SI units)")
        for observation in scenario.observations:
            if observation.name == name:
                lines.append(f"size: {observation.size}")
        for body in scenario.bodies:
            if body.name == name:
                lines.append(f"mass: {body.mass:g} kg" + (f"; shape: {body.shape.kind}{tuple(body.shape.size)} m"
                                                         if body.shape else ""))
    attributes = attributes_of(analysis, name)
    if attributes:
        lines.append("signals: " + ", ".join(f"`{name}.{a}`" for a in attributes))
    return "\n".join(lines)


def attributes_of(analysis: Analysis, name: str) -> list[str]:
    """What can follow `name.`: a body's or frame's signals, a joint's (by its type), and the
    targets `randomize` may draw."""
    declared = declarations(analysis).get(name)
    if declared is None:
        return []
    node = declared.node
    if isinstance(node, ast.BodyDecl):
        return sorted({*BODY_ATTRS, *RANDOM_TARGETS["body"]})
    if isinstance(node, ast.FrameDecl):
        return list(FRAME_ATTRS)
    if isinstance(node, ast.JointDecl):
        return sorted({*JOINT_ATTRS.get(node.kind.name, {}), "damping"})
    if isinstance(node, ast.CameraDecl):
        return ["color", "depth", "label", *RANDOM_TARGETS["camera"]]
    if isinstance(node, ast.LightDecl):
        return list(RANDOM_TARGETS["light"])
    if isinstance(node, ast.ControllerDecl):
        return ["q", "v", "desired_position", "kp", "ki", "kd"]
    if isinstance(node, ast.ActionDecl):
        return ["normalized", "noise", "delay"]
    if isinstance(node, ast.ObservationDecl):
        return ["noise"]
    return []


def target_hover(analysis: Analysis, owner: str, attribute: str) -> str | None:
    """Markdown for `owner.attribute` when it is something `randomize` may draw: its size,
    dimension and lower bound, and the scope it is drawn in."""
    declared = declarations(analysis).get(owner)
    kind = {"body": "body", "camera": "camera", "light": "light", "marker": "marker",
            "controller": "controller"}.get(declared.kind if declared else "", "")
    entry = RANDOM_TARGETS.get(kind, {}).get(attribute)
    if entry is None:
        return None
    size, dim, lower = entry
    per_build = attribute in ("size", "background") or kind in ("light", "controller")
    return (f"**randomizable** `{owner}.{attribute}`: {size or 1} number{'s' if (size or 1) > 1 else ''} "
            f"of {describe(dim)}" + (f", at least {lower:g}" if lower is not None else "")
            + f"; drawn per {'build' if per_build else 'episode'} (docs/language.md, What can be randomized)")


def completions(analysis: Analysis, text: str, line: int, column: int) -> list[tuple[str, str]]:
    """(label, kind) candidates at (line, column): after `NAME.`, its attributes; else the
    statement keywords, every declared name, the distributions and the units."""
    lines = text.splitlines()
    before = lines[line][:column] if 0 <= line < len(lines) else ""
    dotted = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_0-9]*)$", before)
    if dotted:
        return [(a, "field") for a in attributes_of(analysis, dotted.group(1))]
    names = [(d.name, "variable" if d.kind in ("param", "let", "let (drawn)", "curriculum variable") else "class")
             for d in declarations(analysis).values()]
    return ([(k, "keyword") for k in STATEMENT_KEYWORDS] + names + [(d, "function") for d in DISTRIBUTIONS]
            + [(u, "unit") for u in UNITS])


def outline(analysis: Analysis, path: str) -> list[Declared]:
    """The document's own declarations (not its includes'), in order."""
    return [d for d in declarations(analysis).values() if d.place.path == path]


def quick_fix(diagnostic: Diagnostic) -> str | None:
    """The replacement a diagnostic's "did you mean" hint proposes for its span, if any."""
    match = DID_YOU_MEAN.search(diagnostic.hint or "")
    return match.group(1) if match and diagnostic.span is not None else None
