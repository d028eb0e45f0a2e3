"""Randomization that adapts while a policy trains: the `adaptive { ... }` settings of automatic
domain randomization (the ranges of `adaptive(...)` draws, checked with the other distributions)
and `curriculum { stage ... }`: each stage's values, its `until` criteria over the metrics the
learner measures (`model.METRICS`) and its window of episodes. A curriculum's variables are
declared like random `let`s (`names`), so draws, observations and rewards read them.
"""

from __future__ import annotations

import math

from scenario_dsl.lang import ast
from scenario_dsl.lang.model import METRICS, Adaptation, Criterion, Curriculum, Distribution, Randomization, Stage
from scenario_dsl.lang.typecheck import Failed
from scenario_dsl.lang.units import DIMENSIONLESS, Dim
from scenario_dsl.lang.validate.context import Context, where
from scenario_dsl.support.suggest import did_you_mean

_MEASURES = ("success", "return")
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class AdaptiveChecks(Context):
    """`adaptive` settings and `curriculum` stages."""

    def _adaptation(self, randomizations: list[Randomization], has_success: bool) -> Adaptation | None:
        """The ADR settings when any draw is `adaptive(...)` (defaults without an `adaptive` block)."""
        block = next((s for s in self.statements if isinstance(s, ast.AdaptiveBlock)), None)
        adaptive = any(isinstance(value, Distribution) and value.family == "adaptive" for r in randomizations
                       for value in [*(d.value for d in r.draws), *(let.value for let in r.lets)])
        self._adaptive_keys()
        if block is None:
            if adaptive and not has_success:
                call = next(node for s in self.statements if isinstance(s, ast.RandomizeBlock) for node in s.walk()
                            if isinstance(node, ast.Call) and node.func.name == "adaptive")
                self.error("SCN406", "`adaptive(...)` widens a range while the policy succeeds at its "
                           "boundary, and the episode declares no `success when`", call.span,
                           "add `episode { success when ... }`, or measure returns: "
                           "`adaptive { measure = return; thresholds = [low, high] }`")
            return Adaptation() if adaptive else None
        values = self._settings(block.settings, {
            "measure": self._choice(_MEASURES),
            "thresholds": self._value(None, 2),
            "buffer": self._value(DIMENSIONLESS, None, at_least=1.0),
            "boundary_probability": self._value(DIMENSIONLESS, None, above=0.0),
        }, "`adaptive`")
        if not adaptive:
            self.diagnostics.add("SCN408", "`adaptive` settings, and no draw is `adaptive(...)`", block.span,
                                 "draw a parameter from adaptive(low, high, min, max, step), or remove the block")
        measure = values.get("measure", "success")
        keys = {s.key.name: s for s in block.settings}
        if measure == "success" and not has_success:
            self.error("SCN406", "ADR measures success, and the episode declares no `success when`",
                       keys["measure"].span if "measure" in keys else block.span,
                       "add `episode { success when ... }`, or `measure = return` with thresholds in return units")
        if measure == "return" and "thresholds" not in keys:
            self.error("SCN406", "`measure = return` needs `thresholds = [low, high]` in return units",
                       block.span, "e.g. thresholds = [200, 400]")
        thresholds = values.get("thresholds", [0.5, 0.8])
        if "thresholds" in values and not thresholds[0] < thresholds[1]:
            self.error("SCN402", "`thresholds = [low, high]` needs low < high: below low a range narrows, "
                       "at or above high it widens", keys["thresholds"].span,
                       f"swap them: thresholds = [{thresholds[1]:g}, {thresholds[0]:g}]")
        if measure == "success" and "thresholds" in values and not all(0 <= t <= 1 for t in thresholds):
            self.error("SCN401", "success thresholds are rates, between 0 and 1", keys["thresholds"].span, None)
        buffer = values.get("buffer", 20)
        if not float(buffer).is_integer():
            self.error("SCN401", "`buffer` is a whole number of episodes", keys["buffer"].span, None)
        probability = values.get("boundary_probability", 0.5)
        if probability > 1:
            self.error("SCN401", "`boundary_probability` is a probability, at most 1",
                       keys["boundary_probability"].span, None)
        return Adaptation(measure=measure, thresholds=(float(thresholds[0]), float(thresholds[1])),
                          buffer=int(buffer), boundary_probability=float(probability), where=where(block.span))

    def _adaptive_keys(self) -> None:
        """One `adaptive(...)` per target or `let` (the learner keeps one range for each: two
        would share it), and a warning for a range that cannot move (min = low, high = max)."""
        seen: dict[str, ast.Node] = {}
        for statement in self.statements:
            if not isinstance(statement, ast.RandomizeBlock):
                continue
            for item in statement.items:
                value = getattr(item, "value", None)
                if not (isinstance(value, ast.Call) and value.func.name == "adaptive"):
                    continue
                key = item.name.name if isinstance(item, ast.Let) else item.target.dotted  # type: ignore[union-attr]
                if key in seen:
                    self.error("SCN407", f"`{key}` is drawn from `adaptive(...)` twice: ADR keeps one range per "
                               "target", value.span, f"the first is at {seen[key].span}; keep one of them")
                seen[key] = value
                numbers = [a.value for a in value.args if isinstance(a, ast.Number)]
                if len(numbers) == 5 and numbers[0] == numbers[2] and numbers[1] == numbers[3]:
                    self.diagnostics.add("SCN408", f"the range of `{key}` cannot move: min = low and max = high",
                                         value.span, "give `min` below `low` or `max` above `high`, or draw it "
                                         "from a fixed distribution")

    def _curriculum(self, has_success: bool) -> Curriculum | None:
        block = next((s for s in self.statements if isinstance(s, ast.CurriculumBlock)), None)
        if block is None:
            return None
        if not block.stages:
            self.error("SCN406", "a curriculum has no stages", block.span,
                       "e.g. stage easy until success_rate >= 0.8 over 50 episodes { push = 0 N }")
            return None
        self._stage_dims: dict[str, tuple[Dim | None, int | None]] = {}  # the first stage's
        first = block.stages[0]
        variables = {s.key.name: s for s in first.settings}
        stages: list[Stage] = []
        names: set[str] = set()
        for index, stage in enumerate(block.stages):
            if stage.name.name in names:
                self.error("SCN202", f"two stages are called `{stage.name.name}`", stage.name.span, None)
            names.add(stage.name.name)
            values: dict[str, float | list[float]] = {}
            for setting in stage.settings:
                key = setting.key.name
                if key not in variables:
                    self.error("SCN203", f"`{key}` is not set in the first stage, `{first.name.name}`",
                               setting.key.span, did_you_mean(key, list(variables)) or
                               "every stage sets the same variables, the first stage declares them")
                    continue
                if key in values:
                    self.error("SCN208", f"`{key}` is set twice in stage `{stage.name.name}`", setting.key.span, None)
                    continue
                if setting.value is None:
                    self.error("SCN406", f"`{key}` needs a value", setting.span, f"write `{key} = ...`")
                    continue
                value = self._stage_value(setting, variables[key], index == 0)
                if value is not None:
                    values[key] = value
            missing = [k for k in variables if k not in {s.key.name for s in stage.settings}]
            if missing:
                self.error("SCN406", f"stage `{stage.name.name}` does not set {', '.join(f'`{k}`' for k in missing)}",
                           stage.name.span, "every stage sets every variable of the first stage")
            last = index == len(block.stages) - 1
            until, window = self._until(stage, has_success, last)
            stages.append(Stage(name=stage.name.name, values=values, until=until, window=window,
                                where=where(stage.span)))
        return Curriculum(stages=stages, where=where(block.span))

    def _stage_value(self, setting: ast.Setting, declared: ast.Setting, first: bool) -> float | list[float] | None:
        """A stage's value of a variable: a constant, of the first stage's unit and length."""
        assert setting.value is not None
        try:
            typed = self.check.constant(setting.value, self._constant_scope(f"for `{setting.key.name}`"))
        except Failed:  # reported
            return None
        if typed.constant is None:
            return None
        if not first:
            reference = self._stage_dims.get(setting.key.name)
            if reference is not None and (reference[0] != typed.dim or reference[1] != typed.size):
                self.error("SCN302" if reference[0] != typed.dim else "SCN303",
                           f"`{setting.key.name}` has another unit or length than in the first stage "
                           f"({declared.value.span.text if declared.value is not None else ''})", setting.value.span,
                           "give every stage's value in the same unit and length")
                return None
        else:
            self._stage_dims[setting.key.name] = (typed.dim, typed.size)
            self.decls.sizes[setting.key.name] = typed.size  # type: ignore[assignment]
        value = typed.constant
        if not all(math.isfinite(x) for x in (value if isinstance(value, list) else [value])):
            self.error("SCN401", f"`{setting.key.name}` must be finite", setting.value.span, None)
            return None
        return value

    def _until(self, stage: ast.Stage, has_success: bool, last: bool) -> tuple[list[Criterion], int]:
        """`until A and B over N episodes`: criteria that must all hold over the stage's last N."""
        window = 50
        if stage.until is None:
            if not last:
                self.error("SCN406", f"stage `{stage.name.name}` has no `until`: the curriculum would never leave it",
                           stage.name.span, "e.g. until success_rate >= 0.8 over 50 episodes")
            if stage.over is not None:
                self.error("SCN407", "`over` counts the episodes of an `until`", stage.over.span, None)
            return [], window
        if last:
            self.error("SCN407", f"the last stage, `{stage.name.name}`, has an `until`: there is no stage after it",
                       stage.until.span, "remove the `until`, or add the stage that follows")
        if stage.over is not None:
            over = stage.over
            count = float(over.text) if isinstance(over, ast.Number) and over.unit in (None, "episodes", "episode") \
                else None
            if count is None or not count.is_integer() or count < 1:
                self.error("SCN401", "`over` takes a whole number of episodes, at least 1", over.span,
                           "e.g. over 50 episodes")
            else:
                window = int(count)
        criteria: list[Criterion] = []
        parts: list[ast.Expr] = []
        pending: list[ast.Expr] = [stage.until]
        while pending:
            expr = pending.pop()
            if isinstance(expr, ast.Binary) and expr.op == "and":
                pending += [expr.right, expr.left]
            else:
                parts.append(expr)
        for part in parts:
            criterion = self._criterion(part, has_success)
            if criterion is not None:
                criteria.append(criterion)
        return criteria, window

    def _criterion(self, expr: ast.Expr, has_success: bool) -> Criterion | None:
        hint = f"compare a metric ({', '.join(METRICS)}) with a number: success_rate >= 0.8"
        if not isinstance(expr, ast.Compare):
            self.error("SCN204", "an `until` compares a metric with a number, joined by `and`", expr.span, hint)
            return None
        left, right, op = expr.left, expr.right, expr.op
        if not isinstance(left, ast.Ref):
            left, right, op = right, left, _FLIPPED[op]
        if not (isinstance(left, ast.Ref) and len(left.parts) == 1):
            self.error("SCN204", "an `until` compares a metric with a number", expr.span, hint)
            return None
        metric = left.parts[0].name
        if metric not in METRICS:
            self.error("SCN201", f"`{metric}` is not a metric the learner measures", left.span,
                       did_you_mean(metric, list(METRICS)) or f"metrics: {', '.join(METRICS)}")
            return None
        if metric == "success_rate" and not has_success:
            self.error("SCN406", "`success_rate` needs a `success when` in the episode", left.span,
                       "add `episode { success when ... }`, or measure mean_return")
            return None
        value = self._const(right, metric, None)
        if value is None:
            return None
        if isinstance(value, list):
            self.error("SCN304", f"`{metric}` is one number", right.span, None)
            return None
        if metric == "success_rate" and not 0 <= value <= 1:
            self.error("SCN401", f"`success_rate` is a rate between 0 and 1, not {value:g}", right.span,
                       f"e.g. success_rate >= {value / 100:g} for {value:g}%" if 1 < value <= 100 else None)
            return None
        return Criterion(metric=metric, op=op, value=float(value))  # type: ignore[arg-type]
