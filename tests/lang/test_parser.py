"""The parser and AST builder: every construct, spans, newline rules, soft keywords, syntax
errors with their codes and positions, pathological nesting, and property tests."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lark import Token, Tree

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import build
from scenario_dsl.lang.diagnostics import CODES, Diagnostic
from scenario_dsl.lang.parser import MAX_NESTING, parse
from scenario_dsl.lang.source import SourceFile

# ---- helpers ------------------------------------------------------------------------------


def tree_of(text: str) -> ast.File:
    """The AST of `text`, which must parse."""
    file, diagnostics = build(SourceFile("t.scn", text))
    assert diagnostics == [], [(d.code, d.line, d.column, d.message) for d in diagnostics]
    assert file is not None
    return file


def only(text: str) -> Any:
    """The single statement of `text`."""
    statements = tree_of(text).statements
    assert len(statements) == 1, statements
    return statements[0]


def expr_of(text: str) -> ast.Expr:
    """The AST of one expression (parsed as `let _x = EXPR`)."""
    statement = only(f"let _x = {text}")
    assert isinstance(statement, ast.Let)
    return statement.value


def error_of(text: str) -> Diagnostic:
    """The single syntax diagnostic of `text`."""
    file, diagnostics = build(SourceFile("t.scn", text))
    assert file is None
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def sexpr(node: Any) -> str:
    """A compact, span-free rendering of an expression tree, for structural comparisons."""
    if isinstance(node, ast.Number):
        return node.text + (f" {node.unit}" if node.unit else "")
    if isinstance(node, ast.Ref):
        return node.dotted
    if isinstance(node, ast.Unary):
        return f"({node.op} {sexpr(node.operand)})"
    if isinstance(node, (ast.Binary, ast.Compare)):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    if isinstance(node, ast.Index):
        return f"{sexpr(node.target)}[{sexpr(node.index)}]"
    if isinstance(node, ast.Norm):
        return f"|{sexpr(node.expr)}|"
    if isinstance(node, ast.Vector):
        return "[" + ", ".join(sexpr(i) for i in node.items) + "]" + (f" {node.unit}" if node.unit else "")
    if isinstance(node, ast.Group):
        return f"{{{sexpr(node.expr)}}} {node.unit}"
    if isinstance(node, ast.Call):
        args = [sexpr(a) for a in node.args] + [f"{k.name.name}={sexpr(k.value)}" for k in node.kwargs]
        return f"{node.func.name}(" + ", ".join(args) + ")" + (f" {node.unit}" if node.unit else "")
    raise AssertionError(f"not an expression: {node!r}")


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """Character offsets [start, end) of the nth occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def span_of(node: ast.Node) -> tuple[int, int]:
    return node.span.start, node.span.end


# ---- the raw parse tree -------------------------------------------------------------------


def test_parse_without_transformer_gives_lark_tree_with_every_token() -> None:
    result = parse(SourceFile("t.scn", 'scenario t "d"\nlet x = 1 + 2 * y  # note\n'))
    assert result.diagnostics == []
    tree = result.tree
    assert isinstance(tree, Tree) and tree.data == "start"
    statements = [c for c in tree.children if isinstance(c, Tree)]
    assert [s.data for s in statements] == ["scenario", "let"]
    scenario = statements[0]
    assert [(t.type, str(t)) for t in scenario.children] == [("SCENARIO", "scenario"), ("NAME", "t"),
                                                             ("STRING", '"d"')]
    let = statements[1]
    value = let.children[3]
    assert value.data == "binary"
    assert [c.data if isinstance(c, Tree) else str(c) for c in value.children] == ["number", "+", "binary"]
    assert [str(c) for c in result.comments] == ["# note"]


def test_parse_keeps_token_positions() -> None:
    text = "body box { mass = 2 kg }"
    tree = parse(SourceFile("t.scn", text)).tree
    name = next(t for t in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "NAME"))
    assert (name.start_pos, name.end_pos) == at(text, "box")
    unit = next(tree.scan_values(lambda v: isinstance(v, Token) and v.type == "UNIT"))
    assert (str(unit), unit.line, unit.column) == ("kg", 1, 21)


def test_empty_and_blank_files_parse_to_no_statements() -> None:
    for text in ("", "\n\n\n", ";;;", "# only a comment", "  \t\n# a\n\n# b\n", "\n;\n;"):
        file = tree_of(text)
        assert file.statements == ()


def test_comments_are_collected_with_spans() -> None:
    text = "# head\nscenario t # tail\n\n  # indented\n"
    file = tree_of(text)
    assert [c.text for c in file.comments] == ["# head", "# tail", "# indented"]
    assert [span_of(c) for c in file.comments] == [at(text, "# head"), at(text, "# tail"), at(text, "# indented")]
    assert file.span.start == 0 and file.span.end == len(text)


# ---- statements: every construct ------------------------------------------------------------


def test_scenario_with_and_without_description() -> None:
    text = 'scenario box_flipup "Flip a box"'
    s = only(text)
    assert isinstance(s, ast.ScenarioDecl)
    assert (s.name.name, s.description) == ("box_flipup", "Flip a box")
    assert span_of(s.name) == at(text, "box_flipup")
    assert span_of(s) == (0, len(text))
    bare = only("scenario t")
    assert bare.description is None


def test_string_escapes_are_decoded() -> None:
    s = only(r'scenario t "say \"hi\" \\ now"')
    assert s.description == 'say "hi" \\ now'
    assert only(r'include "a\\b.scn"').path == "a\\b.scn"


def test_include() -> None:
    text = 'include "parts/arm.scn"'
    s = only(text)
    assert isinstance(s, ast.Include)
    assert s.path == "parts/arm.scn"
    assert span_of(s) == (0, len(text))


def test_param_and_lets() -> None:
    file = tree_of("param goal = [0.3, 0.1] m\nlet k = 2 * goal\nlet m ~ uniform(1, 2) kg")
    param, let, drawn = file.statements
    assert isinstance(param, ast.Param) and param.name.name == "goal"
    assert sexpr(param.value) == "[0.3, 0.1] m"
    assert isinstance(let, ast.Let) and not let.drawn and sexpr(let.value) == "(* 2 goal)"
    assert isinstance(drawn, ast.Let) and drawn.drawn and sexpr(drawn.value) == "uniform(1, 2) kg"


def test_plant_block_settings() -> None:
    text = "plant { time_step = 1 ms; contact_model = point; gravity = [0, 0, -9.81] m/s^2 }"
    s = only(text)
    assert isinstance(s, ast.PlantBlock)
    assert [x.key.name for x in s.settings] == ["time_step", "contact_model", "gravity"]
    assert sexpr(s.settings[0].value) == "1 ms"
    assert sexpr(s.settings[1].value) == "point"
    assert sexpr(s.settings[2].value) == "[0, 0, (- 9.81)] m/s^2"
    assert span_of(s.settings[0]) == at(text, "time_step = 1 ms")
    assert span_of(s.settings[0].key) == at(text, "time_step")
    assert span_of(s) == (0, len(text))


def test_model_with_body() -> None:
    text = ('model bin from "models/planar_bin.sdf" {\n'
            "    weld world -> bin_base at (translation = [0, 0, -0.015])\n"
            "    initial { shoulder = 0.1; elbow = 0.2 }\n"
            "}")
    s = only(text)
    assert isinstance(s, ast.ModelDecl)
    assert (s.name.name, s.url) == ("bin", "models/planar_bin.sdf")
    weld, initial = s.items
    assert isinstance(weld, ast.Weld)
    assert (weld.parent.dotted, weld.child.dotted) == ("world", "bin_base")
    assert weld.pose is not None and [k.name.name for k in weld.pose.kwargs] == ["translation"]
    assert isinstance(initial, ast.Setting) and initial.key.name == "initial" and initial.value is None
    assert initial.block is not None and [x.key.name for x in initial.block] == ["shoulder", "elbow"]
    assert span_of(s) == (0, len(text))


def test_model_without_body() -> None:
    s = only('model arm from "package://drake/examples/acrobot/Acrobot.urdf"')
    assert s.items is None
    assert s.url.startswith("package://")
    empty = only('model arm from "a.urdf" { }')
    assert empty.items == ()


def test_frame_with_and_without_pose() -> None:
    text = "frame box_plane on world at (rotation = rpy(90 deg, 0, 0))"
    s = only(text)
    assert isinstance(s, ast.FrameDecl)
    assert (s.name.name, s.parent.dotted) == ("box_plane", "world")
    assert s.pose is not None
    (kw,) = s.pose.kwargs
    assert kw.name.name == "rotation" and sexpr(kw.value) == "rpy(90 deg, 0, 0)"
    assert span_of(s.pose) == at(text, "at (rotation = rpy(90 deg, 0, 0))")
    assert only("frame f on arm.link").pose is None
    assert only("frame f on arm.link").parent.dotted == "arm.link"


def test_body_settings_flags_and_nested_blocks() -> None:
    s = only("body box { shape = box(0.2, 0.05, 0.3); mass = 1 kg; collision; contact { friction = 1 } }")
    assert isinstance(s, ast.BodyDecl)
    shape, mass, collision, contact = s.settings
    assert sexpr(shape.value) == "box(0.2, 0.05, 0.3)"
    assert sexpr(mass.value) == "1 kg"
    assert (collision.value, collision.block) == (None, None)
    assert contact.value is None and contact.block is not None
    assert contact.block[0].key.name == "friction"
    assert only("body carriage").settings is None
    assert only("body carriage { }").settings == ()


def test_joint_with_kwargs_and_settings() -> None:
    text = "joint finger_x: prismatic(world -> carriage, axis = [1, 0, 0]) { limits = [-0.3, 0.3]; actuated }"
    s = only(text)
    assert isinstance(s, ast.JointDecl)
    assert (s.name.name, s.kind.name, s.parent.dotted, s.child.dotted) == ("finger_x", "prismatic", "world", "carriage")
    assert [(k.name.name, sexpr(k.value)) for k in s.kwargs] == [("axis", "[1, 0, 0]")]
    assert s.settings is not None and [x.key.name for x in s.settings] == ["limits", "actuated"]
    assert span_of(s.name) == at(text, "finger_x")
    assert span_of(s.kind) == at(text, "prismatic")
    assert span_of(s.parent) == at(text, "world")
    assert span_of(s.child) == at(text, "carriage")
    assert span_of(s.kwargs[0]) == at(text, "axis = [1, 0, 0]")


def test_joint_without_kwargs_or_settings() -> None:
    s = only("joint box_joint: planar(box_plane -> box)")
    assert s.kwargs == () and s.settings is None


def test_joint_between_model_links() -> None:
    s = only("joint j: revolute(arm.link1 -> arm.link2, axis = [0, 0, 1])")
    assert (s.parent.dotted, s.child.dotted) == ("arm.link1", "arm.link2")
    assert [p.name for p in s.child.parts] == ["arm", "link2"]


def test_weld_statement() -> None:
    text = "weld world -> table at (translation = [0, 0, -0.025] m, rotation = rpy(0, 0, 1))"
    s = only(text)
    assert isinstance(s, ast.Weld)
    assert (s.parent.dotted, s.child.dotted) == ("world", "table")
    assert s.pose is not None and [k.name.name for k in s.pose.kwargs] == ["translation", "rotation"]
    assert only("weld world -> table").pose is None


def test_controller() -> None:
    text = "controller finger_pd: inverse_dynamics(finger_x, finger_z) { kp = 100; ki = 1; kd = 20 }"
    s = only(text)
    assert isinstance(s, ast.ControllerDecl)
    assert (s.name.name, s.kind.name) == ("finger_pd", "inverse_dynamics")
    assert [j.dotted for j in s.joints] == ["finger_x", "finger_z"]
    assert [span_of(j) for j in s.joints] == [at(text, "finger_x"), at(text, "finger_z")]
    assert s.settings is not None and [x.key.name for x in s.settings] == ["kp", "ki", "kd"]
    assert only("controller c: pd(j)").settings is None


def test_action_variants() -> None:
    text = "action torque = pendulum.effort in [-2, 2] N*m { normalize = 0 }"
    s = only(text)
    assert isinstance(s, ast.ActionDecl)
    assert (s.name.name, s.target.dotted) == ("torque", "pendulum.effort")
    assert sexpr(s.bounds) == "[(- 2), 2] N*m"
    assert s.settings is not None and s.settings[0].key.name == "normalize"
    assert span_of(s.target) == at(text, "pendulum.effort")
    bare = only("action a = c.desired_position")
    assert (bare.bounds, bare.settings) == (None, None)
    nested = only("action a = c.desired_position in [[-0.5, -0.1], [0.5, 0.6]]")
    assert sexpr(nested.bounds) == "[[(- 0.5), (- 0.1)], [0.5, 0.6]]"
    flag_only = only("action a = j.effort { normalize }")
    assert flag_only.bounds is None and flag_only.settings is not None


def test_observation() -> None:
    s = only("observation obs = [cos(pendulum.q), sin(pendulum.q), pendulum.v] { dtype = float64 }")
    assert isinstance(s, ast.ObservationDecl)
    assert sexpr(s.value) == "[cos(pendulum.q), sin(pendulum.q), pendulum.v]"
    assert s.settings is not None and sexpr(s.settings[0].value) == "float64"
    assert only("observation state = plant.state").settings is None


def test_randomize_block_items() -> None:
    text = ("randomize per build every 10 episodes {\n"
            "    box.mass *~ uniform(0.5, 2)\n"
            "    box_joint.x +~ uniform(-0.1, 0.1) m\n"
            "    box.friction ~ 0.5\n"
            "    let yaw ~ uniform(-30, 30) deg\n"
            '    require yaw > 0 "positive yaw"\n'
            "    require yaw < 1 rad\n"
            "}")
    s = only(text)
    assert isinstance(s, ast.RandomizeBlock)
    assert s.scope is not None
    assert (s.scope.name.name, s.scope.every, s.scope.every_unit.name) == ("build", "10", "episodes")
    assert span_of(s.scope) == at(text, "per build every 10 episodes")
    scale, offset, absolute, let, req, req2 = s.items
    assert (scale.target.dotted, scale.op, sexpr(scale.value)) == ("box.mass", "*~", "uniform(0.5, 2)")
    assert (offset.op, sexpr(offset.value)) == ("+~", "uniform((- 0.1), 0.1) m")
    assert (absolute.op, sexpr(absolute.value)) == ("~", "0.5")
    assert isinstance(let, ast.Let) and let.drawn
    assert isinstance(req, ast.Require) and req.message == "positive yaw" and sexpr(req.condition) == "(> yaw 0)"
    assert req2.message is None
    assert span_of(scale) == at(text, "box.mass *~ uniform(0.5, 2)")


def test_randomize_scopes() -> None:
    assert only("randomize { }").scope is None
    step = only("randomize per step { x ~ 1 }").scope
    assert (step.name.name, step.every, step.every_unit) == ("step", None, None)


def test_reward_block() -> None:
    text = "reward {\n    let angle = box_joint.theta - pi / 2\n    10 - 2 * angle^2 as upright\n    -0.1 * spin\n}"
    s = only(text)
    assert isinstance(s, ast.RewardBlock)
    let, named, anonymous = s.items
    assert isinstance(let, ast.Let) and let.name.name == "angle"
    assert isinstance(named, ast.RewardTerm) and named.name is not None and named.name.name == "upright"
    assert sexpr(named.expr) == "(- 10 (* 2 (^ angle 2)))"
    assert span_of(named.name) == at(text, "upright")
    assert span_of(named) == at(text, "10 - 2 * angle^2 as upright")
    assert anonymous.name is None and sexpr(anonymous.expr) == "(* (- 0.1) spin)"


def test_episode_block() -> None:
    text = ('episode {\n    step = 50 ms\n    time_limit = 5 s\n'
            '    terminate when |x| > 2.4 m "cart left"\n    terminate when y < 0\n    success when z > 1\n}')
    s = only(text)
    assert isinstance(s, ast.EpisodeBlock)
    step, limit, term, term2, success = s.items
    assert isinstance(step, ast.Setting) and step.key.name == "step"
    assert isinstance(limit, ast.Setting) and sexpr(limit.value) == "5 s"
    assert isinstance(term, ast.Terminate) and term.reason == "cart left" and sexpr(term.condition) == "(> |x| 2.4 m)"
    assert term2.reason is None
    assert isinstance(success, ast.Success) and sexpr(success.condition) == "(> z 1)"
    assert span_of(term) == at(text, 'terminate when |x| > 2.4 m "cart left"')


def test_train_block() -> None:
    s = only("train { algo = ppo; n_timesteps = 3e6; policy = mlp([64, 64]); normalize }")
    assert isinstance(s, ast.TrainBlock)
    assert [x.key.name for x in s.settings] == ["algo", "n_timesteps", "policy", "normalize"]
    assert sexpr(s.settings[2].value) == "mlp([64, 64])"


def test_statements_keep_source_order() -> None:
    file = tree_of("scenario t\nparam p = 1\nbody b\nreward { 1 }\nepisode { step = 1 ms }\ntrain { }")
    kinds = [type(s).__name__ for s in file.statements]
    assert kinds == ["ScenarioDecl", "Param", "BodyDecl", "RewardBlock", "EpisodeBlock", "TrainBlock"]


def test_walk_visits_every_node_in_source_order() -> None:
    file = tree_of("let x = a + b * c")
    refs = [n.dotted for n in file.walk() if isinstance(n, ast.Ref)]
    assert refs == ["a", "b", "c"]
    idents = [n.name for n in file.walk() if isinstance(n, ast.Ident)]
    assert idents == ["x", "a", "b", "c"]


# ---- expressions --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    # atoms
    ("1", "1"), ("2.5", "2.5"), (".5", ".5"), ("1.", "1."), ("1e-3", "1e-3"), ("3E6", "3E6"),
    ("1 ms", "1 ms"), ("1ms", "1 ms"), ("9.81 m/s^2", "9.81 m/s^2"), ("2 N*m", "2 N*m"), ("1 N*s/m", "1 N*s/m"),
    ("x", "x"), ("box_joint.theta", "box_joint.theta"), ("a.b.c", "a.b.c"),
    ("f()", "f()"), ("f(1, 2)", "f(1, 2)"), ("uniform(-5, 5) deg", "uniform((- 5), 5) deg"),
    ("choice([1, 2], weights = [1, 3])", "choice([1, 2], weights=[1, 3])"),
    ("[]", "[]"), ("[1]", "[1]"), ("[0, 0, 1] m", "[0, 0, 1] m"), ("[[1, 2], [3]]", "[[1, 2], [3]]"),
    ("(1)", "1"), ("((x))", "x"), ("(a + b) m", "{(+ a b)} m"), ("|x|", "|x|"), ("|a - b|", "|(- a b)|"),
    # unary
    ("-x", "(- x)"), ("+x", "(+ x)"), ("--x", "(- (- x))"), ("not x", "(not x)"), ("not not x", "(not (not x))"),
    # precedence, loosest first: or, and, not, comparison, + -, * / mod, unary -, ^, postfix
    ("a or b and c", "(or a (and b c))"),
    ("a and b or c", "(or (and a b) c)"),
    ("not a and b", "(and (not a) b)"),
    ("not a < b", "(not (< a b))"),
    ("a + b < c * d", "(< (+ a b) (* c d))"),
    ("a + b * c", "(+ a (* b c))"),
    ("a * b + c", "(+ (* a b) c)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a / b / c", "(/ (/ a b) c)"),
    ("a mod b * c", "(* (mod a b) c)"),
    ("-a * b", "(* (- a) b)"),
    ("-a^2", "(- (^ a 2))"),
    ("a^-b", "(^ a (- b))"),
    ("a^b^c", "(^ a (^ b c))"),
    ("(a^b)^c", "(^ (^ a b) c)"),
    ("2 * x^2", "(* 2 (^ x 2))"),
    ("a - -b", "(- a (- b))"),
    ("x[0]", "x[0]"), ("x[0][1]", "x[0][1]"), ("f(x)[1]", "f(x)[1]"), ("[1, 2][0]", "[1, 2][0]"),
    ("-x[0]^2", "(- (^ x[0] 2))"),
    ("|v|^2", "(^ |v| 2)"),
    ("(box_joint.theta mod pi) - pi / 2", "(- (mod box_joint.theta pi) (/ pi 2))"),
    ("a == b", "(== a b)"), ("a != b", "(!= a b)"), ("a <= b", "(<= a b)"), ("a >= b", "(>= a b)"),
    ("a > b and c < d", "(and (> a b) (< c d))"),
    ("1 m ^ 2", "(^ 1 m 2)"),  # with spaces, `^ 2` is a power, not part of the unit
    ("1 m^2", "1 m^2"),
    ("2 N * m", "(* 2 N m)"),  # `* m` with a space multiplies by a name `m`
])
def test_expression_structure(text: str, expected: str) -> None:
    assert sexpr(expr_of(text)) == expected


@pytest.mark.parametrize("text", ["a < b < c", "a == b == c", "f(x)(y)", "[1,]", "f(1,)", "x y", "1 2", "a +", "* a"])
def test_invalid_expressions_are_syntax_errors(text: str) -> None:
    d = error_of(f"let x = {text}")
    assert d.code in ("SCN102", "SCN103")


def test_expression_node_spans() -> None:
    text = "let y = 2 * f(a.b, k = 3 m)[1] + |v| - [1, 2] m"
    let = only(text)
    assert span_of(let.name) == at(text, "y")
    total = let.value
    assert isinstance(total, ast.Binary) and total.op == "-"
    assert span_of(total) == at(text, "2 * f(a.b, k = 3 m)[1] + |v| - [1, 2] m")
    plus = total.left
    assert span_of(plus) == at(text, "2 * f(a.b, k = 3 m)[1] + |v|")
    times = plus.left
    assert span_of(times) == at(text, "2 * f(a.b, k = 3 m)[1]")
    index = times.right
    assert isinstance(index, ast.Index) and span_of(index) == at(text, "f(a.b, k = 3 m)[1]")
    call = index.target
    assert isinstance(call, ast.Call)
    assert span_of(call) == at(text, "f(a.b, k = 3 m)")
    assert call.func.span.text == "f" and call.func.span.start == call.span.start
    ref = call.args[0]
    assert isinstance(ref, ast.Ref) and span_of(ref) == at(text, "a.b")
    assert [span_of(p) for p in ref.parts] == [at(text, "a"), (at(text, "a.b")[0] + 2, at(text, "a.b")[1])]
    kwarg = call.kwargs[0]
    assert span_of(kwarg) == at(text, "k = 3 m")
    assert span_of(kwarg.name) == at(text, "k")
    assert span_of(kwarg.value) == at(text, "3 m")
    assert span_of(plus.right) == at(text, "|v|")
    vector = total.right
    assert span_of(vector) == at(text, "[1, 2] m")
    assert span_of(let) == (0, len(text))


def test_number_span_includes_its_unit() -> None:
    assert span_of(expr_of("9.81 m/s^2")) == at("let _x = 9.81 m/s^2", "9.81 m/s^2")
    assert span_of(expr_of("uniform(1, 2) kg")) == at("let _x = uniform(1, 2) kg", "uniform(1, 2) kg")


def test_span_line_and_column() -> None:
    text = "scenario t\n\nbody box {\n    mass = 2 kg\n}\n"
    file = tree_of(text)
    body = file.statements[1]
    mass = body.settings[0]
    assert (mass.key.span.line, mass.key.span.column) == (4, 5)
    assert (mass.value.span.line, mass.value.span.column) == (4, 12)
    assert mass.value.span.end_line_col == (4, 16)
    assert (body.span.line, body.span.column, body.span.end_line_col) == (3, 1, (5, 2))
    assert body.span.text == "body box {\n    mass = 2 kg\n}"


@pytest.mark.parametrize("text", ["(a + b) * 2", "-(x)", "2 * (a)", "(a + b)[0]", "(1 m) ^ 0.5", "(a)", "((a))"])
def test_parentheses_belong_to_the_enclosing_span(text: str) -> None:
    full = f"let _x = {text}"
    let = only(full)
    assert let.value.span.text == text
    assert let.span.text == full


def test_parenthesised_operand_keeps_its_parentheses() -> None:
    value = expr_of("(a + b) * 2")
    assert isinstance(value, ast.Binary)
    assert value.left.span.text == "(a + b)"
    ref = expr_of("(box.mass)")
    assert isinstance(ref, ast.Ref) and ref.span.text == "(box.mass)"
    assert [p.span.text for p in ref.parts] == ["box", "mass"]


def test_statement_span_ends_at_its_closing_parenthesis() -> None:
    assert only("let y = (a)").span.text == "let y = (a)"


# ---- newline rules ------------------------------------------------------------------------


def test_newlines_inside_brackets_are_ignored() -> None:
    text = "let x = f(\n  1,\n  2\n) + [\n 3,\n 4\n][0] * (\n  5\n)"
    assert sexpr(only(text).value) == "(+ f(1, 2) (* [3, 4][0] 5))"


def test_line_continues_after_an_operator_or_comma() -> None:
    for op in ("+", "-", "*", "/", "^", "mod", "and", "or", "<", "<=", ">", ">=", "==", "!="):
        statement = only(f"let x = a {op}\n    b")
        assert sexpr(statement.value) == f"({op} a b)", op
    assert sexpr(only("let x = not\n b").value) == "(not b)"
    assert sexpr(only("let x =\n  1").value) == "1"
    joint = only("joint j: revolute(world ->\n rod,\n axis = [0, 1, 0])")
    assert joint.child.dotted == "rod"
    draw = only("randomize {\n  a.b ~\n    uniform(0, 1)\n}").items[0]
    assert sexpr(draw.value) == "uniform(0, 1)"
    term = only("reward {\n  x as\n  name\n}").items[0]
    assert term.name.name == "name"


def test_a_closing_bar_ends_a_line_but_an_opening_one_does_not() -> None:
    file = tree_of("let x = |a|\nlet y = |b - c|\nreward {\n  -|v|\n  |w|\n}")
    assert [sexpr(s.value) for s in file.statements[:2]] == ["|a|", "|(- b c)|"]
    assert [sexpr(t.expr) for t in file.statements[2].items] == ["(- |v|)", "|w|"]
    assert sexpr(only("let x = |\n  a|").value) == "|a|"
    assert sexpr(only("let x = |f(a)|\n").value) == "|f(a)|"
    assert sexpr(only("let x = |v[0]|\n").value) == "|v[0]|"


def test_newline_after_open_brace_and_before_close_brace() -> None:
    s = only("body b {\n\n  mass = 1 kg\n\n  friction = 1\n\n}")
    assert [x.key.name for x in s.settings] == ["mass", "friction"]
    only("plant {\n}")
    only("episode {\n  step = 1 ms\n  }")


def test_semicolons_separate_items_and_statements() -> None:
    file = tree_of("scenario t; body b { mass = 1 kg; friction = 1 }; let x = 1")
    assert [type(s).__name__ for s in file.statements] == ["ScenarioDecl", "BodyDecl", "Let"]
    assert len(file.statements[1].settings) == 2
    file = tree_of(";;scenario t;;\n;\nbody b;;")
    assert len(file.statements) == 2


def test_blank_lines_and_comments_anywhere() -> None:
    text = ("# head\n\n\nscenario t  # after\n\n# between\n\nbody b {  # open\n  # inside\n\n  mass = 1 kg  # item\n"
            "  # before close\n}  # closed\nlet x = 1 +  # mid-expression\n  2\nlet y = f(  # in call\n 1)\n# end")
    file = tree_of(text)
    assert [type(s).__name__ for s in file.statements] == ["ScenarioDecl", "BodyDecl", "Let", "Let"]
    assert sexpr(file.statements[2].value) == "(+ 1 2)"
    assert len(file.comments) == 11


def test_newline_ends_a_statement() -> None:
    d = error_of("let x = 1\n+ 2")
    assert (d.code, d.line, d.column) == ("SCN102", 2, 1)


def test_crlf_line_endings() -> None:
    file = tree_of("scenario t\r\nbody b {\r\n  mass = 1 kg\r\n}\r\n")
    assert len(file.statements) == 2


def test_file_may_end_without_newline_or_with_many() -> None:
    assert len(tree_of("scenario t").statements) == 1
    assert len(tree_of("scenario t\n\n\n\n").statements) == 1


# ---- soft keywords ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "names"), [
    ("observation o = plant.state", ast.ObservationDecl, ["o", "plant", "state"]),
    ("let x = reward.step", ast.Let, ["x", "reward", "step"]),
    ("let episode = 1", ast.Let, ["episode"]),
    ("let per = every", ast.Let, ["per", "every"]),
    ("let mod = 1", ast.Let, ["mod"]),
    ("let x = mod", ast.Let, ["x", "mod"]),
    ("let and = 1", ast.Let, ["and"]),
    ("let when = in", ast.Let, ["when", "in"]),
    ("let x = scenario + include", ast.Let, ["x", "scenario", "include"]),
    ("body train { step = 1 }", ast.BodyDecl, ["train", "step"]),
    ("body b { at = 1; in = 2; as = 3; from = 4; on = 5; when = 6 }", ast.BodyDecl,
     ["b", "at", "in", "as", "from", "on", "when"]),
    ("let x = world.plant.reward", ast.Let, ["x", "world", "plant", "reward"]),
    ("let x = a.and", ast.Let, ["x", "a", "and"]),
    ("let x = f(or = 1)", ast.Let, ["x", "f", "or"]),
    ("randomize per step { x ~ 1 }", ast.RandomizeBlock, ["step", "x"]),
])
def test_keywords_are_names_where_no_keyword_is_expected(text: str, kind: type, names: list[str]) -> None:
    """Each keyword-like word parses (no diagnostic) into the statement it should, as a name:
    an `ast.Ident`, in source order, and not an operator or a statement of its own."""
    statement = only(text)
    assert isinstance(statement, kind), statement
    assert [n.name for n in statement.walk() if isinstance(n, ast.Ident)] == names


def test_soft_keyword_structures() -> None:
    obs = only("observation o = plant.state")
    assert [p.name for p in obs.value.parts] == ["plant", "state"]
    episode = only("episode { step = 50 ms }")
    assert episode.items[0].key.name == "step"
    body = only("body train { step = 1 }")
    assert (body.name.name, body.settings[0].key.name) == ("train", "step")
    assert sexpr(expr_of("a mod b")) == "(mod a b)"
    assert sexpr(expr_of("1 or 2")) == "(or 1 2)"
    assert sexpr(expr_of("2 mod 3")) == "(mod 2 3)"


@pytest.mark.parametrize(("text", "word", "col", "hint"), [
    ("rewards { 1 }", "rewards", 1, "did you mean `reward`?"),
    ("scenario t\n  episodes { step = 1 ms }", "episodes", 3, "did you mean `episode`?"),
    ("bodyx b", "bodyx", 1, "did you mean `body`?"),
    ("scenariox t", "scenariox", 1, "did you mean `scenario`?"),
    ("let_x = 1", "let_x", 1, "did you mean `let`?"),
    ("randomize perx episode { }", "perx", 11, "did you mean `per`?"),
    ("let x = a andb", "andb", 11, "did you mean `and`?"),
    ("let x = 1 mod2", "mod2", 11, "did you mean `mod`?"),
])
def test_keyword_glued_to_a_word_is_scn102_with_did_you_mean(text: str, word: str, col: int, hint: str) -> None:
    d = error_of(text)
    assert d.code == "SCN102"
    assert d.message == f"unexpected word '{word}'"
    assert d.span is not None and d.span.text == word
    assert d.column == col
    assert d.hint == hint


@pytest.mark.parametrize(("text", "keyword"), [
    ('model m fromx "a"', "from"),
    ("episode { terminate whenx > 1 }", "when"),
    ("frame f onx world", "on"),
    ("action a = b.c inx [1, 2]", "in"),
])
def test_glued_inner_keyword_suggests_itself(text: str, keyword: str) -> None:
    assert error_of(text).hint == f"did you mean `{keyword}`?"


def test_glued_keyword_is_not_taken_for_a_unit() -> None:
    # `1 kgm` is a number with a (bad) unit, not a glued keyword: the validator reports it.
    assert sexpr(expr_of("1 kgm")) == "1 kgm"


# ---- syntax errors: codes and positions ---------------------------------------------------


@pytest.mark.parametrize(("text", "code", "line", "col", "shown"), [
    # SCN101: a character no token starts with
    ("scenario t\nbody b { mass = 1 $ }", "SCN101", 2, 19, "$"),
    ("let x = 1 @ 2", "SCN101", 1, 11, "@"),
    ("let x = 1 \u00e9", "SCN101", 1, 11, "\u00e9"),
    ("scenario t\n\n   ?", "SCN101", 3, 4, "?"),
    # SCN102: a token where it cannot go
    ("scenario t body b", "SCN102", 1, 12, "body"),
    ("let = 1", "SCN102", 1, 5, "="),
    ("scenario t\nlet x = 1 2", "SCN102", 2, 11, "2"),
    ("scenario t\nbody b { mass = 1 kg } extra", "SCN102", 2, 24, "extra"),
    ("scenario t\nfoo b", "SCN102", 2, 1, "foo"),
    ("}", "SCN102", 1, 1, "}"),
    ("let x = 1 }", "SCN102", 1, 11, "}"),
    ("body b { mass: 1 }", "SCN102", 1, 14, ":"),
    ("weld a -> b at ()", "SCN102", 1, 17, ")"),
    ("randomize per { }", "SCN102", 1, 15, "{"),
    ("scenario t\nrandomize { b.mass = uniform(1, 2) }", "SCN102", 2, 20, "="),
    # SCN103: the file ends too soon (the span is empty, at the very end)
    ("scenario t\nbody b {", "SCN103", 2, 9, ""),
    ("scenario t\n\nbody b { mass = 1 kg\n", "SCN103", 4, 1, ""),
    ("joint j: revolute(a -> b", "SCN103", 1, 25, ""),
    ("action a = b.c in", "SCN103", 1, 18, ""),
    ("let x = (1 +", "SCN103", 1, 13, ""),
    # SCN104: a string not closed on its line
    ('scenario "abc', "SCN104", 1, 10, '"'),
    ('scenario t\ninclude "parts.scn\n', "SCN104", 2, 9, '"'),
    ('let x = "a\\"b', "SCN104", 1, 9, '"'),
])
def test_syntax_error_codes_and_positions(text: str, code: str, line: int, col: int, shown: str) -> None:
    d = error_of(text)
    assert (d.code, d.line, d.column) == (code, line, col), (d.message, d.hint)
    assert d.span is not None and d.span.text == shown
    assert d.code in CODES and d.message


def test_randomization_with_equals_has_a_friendly_message() -> None:
    d = error_of("randomize { box.mass = uniform(1, 2) }")
    assert d.message == "a randomization uses '~', not '='"
    assert d.hint is not None and "~" in d.hint


def test_unknown_statement_lists_the_statement_keywords() -> None:
    d = error_of("foo b")
    assert d.message == "'foo' does not start a statement"
    assert d.hint is not None and "scenario" in d.hint and "randomize" in d.hint


def test_two_items_on_one_line_suggests_a_separator() -> None:
    d = error_of("body b { mass = 1 kg friction = 1 }")
    assert d.code == "SCN102"
    assert d.span is not None and d.span.text == "friction"
    assert "new lines or ';'" in d.message


def test_unterminated_string_hint() -> None:
    d = error_of('scenario t "oops')
    assert d.message == "string is not closed on this line"
    assert d.hint is not None and "strings cannot span lines" in d.hint


def test_unexpected_end_names_what_was_expected() -> None:
    d = error_of("joint j: revolute(a -> b")
    assert d.message == "the file ends in the middle of a statement"
    assert d.hint == "expected ')' or ','"


def test_syntax_errors_report_only_the_first_problem() -> None:
    file, diagnostics = build(SourceFile("t.scn", "let x = 1 2\nlet y = $\n"))
    assert file is None
    assert [(d.code, d.line) for d in diagnostics] == [("SCN102", 1)]


def test_double_equals_in_a_setting_is_explained() -> None:
    d = error_of("body b { mass == 1 }")
    assert d.message == "a setting uses '=', not '=='"


@pytest.mark.parametrize("text", ['scenario t "desc" extra', "include x"])
def test_unit_hint_only_after_numbers(text: str) -> None:
    d = error_of(text)
    assert d.hint is None or "unit" not in d.hint


def test_block_separator_message_only_inside_blocks() -> None:
    d = error_of("let x = y m")
    assert "block" not in d.message


# ---- nesting and size limits --------------------------------------------------------------


def test_ten_thousand_nested_parentheses_is_scn105_not_recursion_error() -> None:
    text = "scenario t\nlet x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
    d = error_of(text)
    assert d.code == "SCN105"
    # the first bracket past the limit
    assert (d.line, d.column) == (2, 9 + MAX_NESTING)
    assert d.span is not None and d.span.text == "("


def test_deeply_nested_brackets_and_blocks() -> None:
    assert error_of("let x = " + "[" * 5000 + "1" + "]" * 5000).code == "SCN105"
    assert error_of("let x = " + "f(" * 5000 + "1" + ")" * 5000).code == "SCN105"
    tree_of("let x = " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING)


@pytest.mark.parametrize("text", [
    "-" * 50_000 + "1",
    "not " * 20_000 + "1",
    "|" * 2_000 + "x" + "|" * 2_000,
    "1" + "^1" * 5_000,
    "x" + "[0]" * 5_000,
])
def test_deep_expressions_without_brackets_are_diagnostics(text: str) -> None:
    file, diagnostics = build(SourceFile("t.scn", f"let x = {text}\n"))
    assert file is None
    assert [d.code for d in diagnostics] == ["SCN105"]


def test_hundred_thousand_term_sum_is_a_diagnostic_not_a_crash() -> None:
    text = "scenario t\nlet x = " + "+".join(["1"] * 100_000) + "\n"
    file, diagnostics = build(SourceFile("t.scn", text))
    assert file is None
    assert [d.code for d in diagnostics] == ["SCN105"]
    assert diagnostics[0].line == 2


def test_many_statements_parse() -> None:
    text = "scenario t\n" + "".join(f"let x{i} = {i}\n" for i in range(5_000))
    assert len(tree_of(text).statements) == 5_001


# ---- properties ---------------------------------------------------------------------------

_ALPHABET = string.ascii_letters[:8] + string.digits[:4] + " \t\n;#\"'=~+-*/^|.,:()[]{}<>!_$@\\\u00e9\u2028\r"
_SOUPS = st.text(alphabet=_ALPHABET, max_size=200)
_WORDS = st.lists(st.sampled_from([
    "scenario", "include", "param", "let", "plant", "model", "frame", "body", "joint", "weld", "controller", "action",
    "observation", "randomize", "reward", "episode", "train", "per", "every", "from", "on", "at", "in", "as", "when",
    "terminate", "success", "require", "not", "and", "or", "mod", "x", "y.z", "1", "2.5 m", '"s"', "{", "}", "(", ")",
    "[", "]", "=", "~", "+~", "*~", "->", ",", ":", ";", "\n", "|", "+", "-", "*", "/", "^", "<", "==",
]), max_size=60).map(" ".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), _SOUPS, _WORDS))
def test_random_text_never_raises(text: str) -> None:
    result = parse(SourceFile("fuzz.scn", text))
    assert (result.tree is None) == bool(result.diagnostics)
    for d in result.diagnostics:
        assert d.code in CODES
        assert d.code.startswith("SCN1")
        assert d.span is not None and 0 <= d.span.start <= d.span.end <= len(text)
    file, diagnostics = build(SourceFile("fuzz.scn", text))
    # A hidden character in a comment is a warning (SCN108): the file is still built.
    assert (file is None) == any(d.code != "SCN108" for d in diagnostics)
    for d in diagnostics:
        assert d.code in CODES


# A small expression generator: trees of operators over names and numbers, printed with the
# fewest parentheses that keep their structure; the parser must read the same tree back.
_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "mod": 6, "neg": 7, "^": 8,
         "index": 9, "atom": 10}
_COMPARE = ("<", "<=", ">", ">=", "==", "!=")

Gen = tuple[str, str, tuple[Any, ...]]  # (kind, text, children) — the expected sexpr and the source


def _leaf() -> st.SearchStrategy[tuple[str, str, int]]:
    names = st.sampled_from(["x", "y", "box.mass", "pendulum.q", "pi"])
    numbers = st.sampled_from(["1", "2.5", "0.1", "3e2", "7 m", "9.81 m/s^2", "2 N*m"])
    calls = st.sampled_from(["sin(x)", "f()", "max(1, 2)"])
    return st.one_of(names, numbers, calls).map(lambda t: (t, _atom_sexpr(t), _PREC["atom"]))


def _atom_sexpr(text: str) -> str:
    return sexpr(expr_of(text))


def _paren(source: str, prec: int, needed: int) -> str:
    return source if prec >= needed else f"({source})"


def _combine(children: st.SearchStrategy[tuple[str, str, int]]) -> st.SearchStrategy[tuple[str, str, int]]:
    binary_ops = st.sampled_from(["or", "and", "+", "-", "*", "/", "mod", "^", *_COMPARE])

    def binary(op: str, left: tuple[str, str, int], right: tuple[str, str, int]) -> tuple[str, str, int]:
        prec = _PREC["cmp"] if op in _COMPARE else _PREC[op]
        if op == "^":
            lneed, rneed = _PREC["index"], _PREC["neg"]  # base: a postfix; exponent: a unary
        elif op in _COMPARE:
            lneed = rneed = _PREC["+"]  # comparisons do not chain
        else:
            lneed, rneed = prec, prec + 1  # left-associative
            if op == "and":
                rneed = _PREC["not"]
        src = f"{_paren(left[0], left[2], lneed)} {op} {_paren(right[0], right[2], rneed)}"
        return src, f"({op} {left[1]} {right[1]})", prec

    def unary(op: str, operand: tuple[str, str, int]) -> tuple[str, str, int]:
        if op == "not":
            return f"not {_paren(operand[0], operand[2], _PREC['not'])}", f"(not {operand[1]})", _PREC["not"]
        return f"-{_paren(operand[0], operand[2], _PREC['neg'])}", f"(- {operand[1]})", _PREC["neg"]

    def index(target: tuple[str, str, int], i: int) -> tuple[str, str, int]:
        return f"{_paren(target[0], target[2], _PREC['index'])}[{i}]", f"{target[1]}[{i}]", _PREC["index"]

    def norm(inner: tuple[str, str, int]) -> tuple[str, str, int]:
        return f"|{inner[0]}|", f"|{inner[1]}|", _PREC["atom"]

    def vector(items: list[tuple[str, str, int]]) -> tuple[str, str, int]:
        return "[" + ", ".join(i[0] for i in items) + "]", "[" + ", ".join(i[1] for i in items) + "]", _PREC["atom"]

    return st.one_of(
        st.builds(binary, binary_ops, children, children),
        st.builds(unary, st.sampled_from(["-", "not"]), children),
        st.builds(index, children, st.integers(0, 3)),
        st.builds(norm, children),
        st.builds(vector, st.lists(children, min_size=1, max_size=3)),
    )


_EXPRESSIONS = st.recursive(_leaf(), _combine, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_EXPRESSIONS)
def test_generated_expressions_parse_to_the_expected_tree(generated: tuple[str, str, int]) -> None:
    source, expected, _ = generated
    assume("||" not in source)  # `||x||` reads as a norm of a norm only with spaces; `| |x| |` is fine
    assert sexpr(expr_of(source)) == expected, source


@settings(max_examples=200, deadline=None)
@given(_EXPRESSIONS, st.sampled_from(["\n", " ", "\n\n  ", " # c\n"]))
def test_generated_expressions_may_break_after_operators(generated: tuple[str, str, int], gap: str) -> None:
    source, expected, _ = generated
    assume("||" not in source)
    for op in (" + ", " * ", " and ", " or ", ", "):
        source = source.replace(op, op.rstrip() + gap)
    assert sexpr(expr_of(source)) == expected, source


def test_double_equals_in_a_randomization_is_explained() -> None:
    d = error_of("randomize { b.mass == 1 }")
    assert d.message == "a randomization uses '~', not '=='"


def test_braces_in_strings_with_escaped_quotes_do_not_open_blocks() -> None:
    from scenario_dsl.lang.parser import _in_block

    text = 'scenario t "a \\" { b"\nlet x = y m'
    assert not _in_block(text, text.index("m", text.index("let")))
    text = 'reward { "a \\" } b" q'
    assert _in_block(text, text.index("q"))
