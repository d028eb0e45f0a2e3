"""Stage 3: the abstract syntax tree, one frozen dataclass per construct, each with its span.

The tree says what the file says, nothing resolved: names are strings, numbers keep the text
and unit they were written with. `scenario_dsl.lang.build` makes it from the parse tree,
`scenario_dsl.lang.formatter` prints it back, and `scenario_dsl.lang.validate` turns it into a
`Scenario`. `children()` and `walk()` visit any node generically.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from scenario_dsl.lang.source import Span


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The fields of a node class that can hold nodes (not its span, names, texts or flags)."""
    plain = ("str", "str | None", "bool")  # annotations are strings (`from __future__ import annotations`)
    return tuple(f.name for f in fields(cls) if f.name != "span" and f.type not in plain)


@dataclass(frozen=True)
class Node:
    span: Span

    def children(self) -> list[Node]:
        """Child nodes in source order."""
        out: list[Node] = []
        for name in _field_names(type(self)):  # type: ignore[arg-type]  # a class is hashable
            value = getattr(self, name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, tuple):
                out += [v for v in value if isinstance(v, Node)]
        return out

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, in source order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            children = node.children()
            children.reverse()
            stack.extend(children)


@dataclass(frozen=True)
class Ident(Node):
    """A name as written, with its own span (for diagnostics that point at the name)."""

    name: str


# ---- expressions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Number(Node):
    text: str
    unit: str | None
    # Written in parentheses, `(200 N*m)`: kept for the formatter, ignored when trees are compared.
    # Only a quantity with a unit (a Number, Vector, Call or Group with one) records its parentheses.
    parenthesized: bool = field(default=False, compare=False)

    @property
    def value(self) -> float:
        return float(self.text)


@dataclass(frozen=True)
class Ref(Node):
    """A dotted reference: `box`, `box_joint.theta`, `finger_pd.desired_position`."""

    parts: tuple[Ident, ...]

    @property
    def dotted(self) -> str:
        return ".".join(p.name for p in self.parts)


@dataclass(frozen=True)
class KwArg(Node):
    name: Ident
    value: Expr


@dataclass(frozen=True)
class Call(Node):
    func: Ident
    args: tuple[Expr, ...]
    kwargs: tuple[KwArg, ...]
    unit: str | None
    parenthesized: bool = field(default=False, compare=False)  # as in Number


@dataclass(frozen=True)
class Vector(Node):
    items: tuple[Expr, ...]
    unit: str | None
    parenthesized: bool = field(default=False, compare=False)  # as in Number


@dataclass(frozen=True)
class Group(Node):
    """A parenthesised expression; kept only when it carries a unit: `(a + b) m`. Parentheses
    around any other expression leave no node (`parenthesized` remembers those around a quantity
    with a unit)."""

    expr: Expr
    unit: str | None
    parenthesized: bool = field(default=False, compare=False)  # as in Number: `((a + b) m)`


@dataclass(frozen=True)
class Norm(Node):
    """`|x|`: absolute value of a scalar, Euclidean norm of a vector."""

    expr: Expr


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Expr


@dataclass(frozen=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "mod", "^", "and", "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Node):
    op: str  # "<", "<=", ">", ">=", "==", "!="
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Index(Node):
    target: Expr
    index: Expr


@dataclass(frozen=True)
class Slice(Node):
    """`v[start:stop]`: elements start to stop - 1; either bound may be left out."""

    target: Expr
    start: Expr | None
    stop: Expr | None


Expr = Number | Ref | Call | Vector | Group | Norm | Unary | Binary | Compare | Index | Slice


# ---- statements and block items -------------------------------------------------------------

@dataclass(frozen=True)
class Setting(Node):
    """`key = value` (placed `at (...)` for a shape), a flag `key`, or a flag with settings `key { ... }`."""

    key: Ident
    value: Expr | None
    block: tuple[Setting, ...] | None
    pose: Pose | None = None
    text: str | None = None  # `key = "text"` (value and block None)


@dataclass(frozen=True)
class Pose(Node):
    """`at (translation = [...], rotation = rpy(...))`."""

    kwargs: tuple[KwArg, ...]


@dataclass(frozen=True)
class ScenarioDecl(Node):
    name: Ident
    description: str | None  # without quotes, escapes kept as written


@dataclass(frozen=True)
class Include(Node):
    path: str


@dataclass(frozen=True)
class Param(Node):
    name: Ident
    value: Expr


@dataclass(frozen=True)
class Let(Node):
    name: Ident
    value: Expr
    drawn: bool  # `let x ~ dist` (drawn once per episode) rather than `let x = expr`


@dataclass(frozen=True)
class PlantBlock(Node):
    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class Weld(Node):
    parent: Ref
    child: Ref
    pose: Pose | None


@dataclass(frozen=True)
class ModelDecl(Node):
    name: Ident
    url: str
    items: tuple[Weld | Setting, ...] | None


@dataclass(frozen=True)
class FrameDecl(Node):
    name: Ident
    parent: Ref
    pose: Pose | None


@dataclass(frozen=True)
class BodyDecl(Node):
    name: Ident
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class MarkerDecl(Node):
    name: Ident
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class CameraDecl(Node):
    name: Ident
    parent: Ref
    pose: Pose | None
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class LightDecl(Node):
    name: Ident
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class JointDecl(Node):
    name: Ident
    kind: Ident
    parent: Ref
    child: Ref
    kwargs: tuple[KwArg, ...]
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class ControllerDecl(Node):
    name: Ident
    kind: Ident
    joints: tuple[Ref, ...]
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class ActionDecl(Node):
    name: Ident
    target: Ref
    bounds: Expr | None
    settings: tuple[Setting, ...] | None


@dataclass(frozen=True)
class ObservationDecl(Node):
    name: Ident
    value: Expr
    settings: tuple[Setting, ...] | None
    bounds: Expr | None = None  # `in [lower, upper]`: the observation space's bounds


@dataclass(frozen=True)
class Draw(Node):
    """`target ~ dist` (absolute), `target +~ dist` (offset), `target *~ dist` (scale)."""

    target: Ref
    op: str
    value: Expr


@dataclass(frozen=True)
class Require(Node):
    condition: Expr
    message: str | None


@dataclass(frozen=True)
class Scope(Node):
    """`per episode`, `per build every 10 episodes`, `per step`."""

    name: Ident
    every: str | None
    every_unit: Ident | None


@dataclass(frozen=True)
class RandomizeBlock(Node):
    scope: Scope | None
    items: tuple[Draw | Let | Require, ...]


@dataclass(frozen=True)
class AdaptiveBlock(Node):
    """`adaptive { measure = success; thresholds = [0.5, 0.8]; ... }`: how ADR ranges move."""

    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class Stage(Node):
    """`stage NAME until CONDITION over N episodes { var = value; ... }`."""

    name: Ident
    settings: tuple[Setting, ...]
    until: Expr | None = None
    over: Expr | None = None


@dataclass(frozen=True)
class CurriculumBlock(Node):
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class RewardTerm(Node):
    expr: Expr
    name: Ident | None


@dataclass(frozen=True)
class RewardBlock(Node):
    items: tuple[Let | RewardTerm, ...]


@dataclass(frozen=True)
class Terminate(Node):
    condition: Expr
    reason: str | None


@dataclass(frozen=True)
class Success(Node):
    condition: Expr
    hold: Expr | None = None  # `for DURATION`: how long the condition must hold
    settings: tuple[Setting, ...] | None = None  # `{ end_episode = false }`


@dataclass(frozen=True)
class EpisodeBlock(Node):
    items: tuple[Setting | Terminate | Success, ...]


@dataclass(frozen=True)
class TrainBlock(Node):
    settings: tuple[Setting, ...]


Statement = (
    ScenarioDecl | Include | Param | Let | PlantBlock | ModelDecl | FrameDecl | BodyDecl | JointDecl | Weld
    | ControllerDecl | MarkerDecl | CameraDecl | LightDecl | ActionDecl | ObservationDecl | RandomizeBlock
    | AdaptiveBlock | CurriculumBlock | RewardBlock | EpisodeBlock | TrainBlock
)


@dataclass(frozen=True)
class Comment(Node):
    text: str  # with the leading '#'


@dataclass(frozen=True)
class File(Node):
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...]
