"""Reward, episode and training: reward terms (scalar, uniquely named), termination and success
conditions, the episode's step and time limit (a whole number of plant steps: SCN403; within
`lang.limits`' plant steps per env step and per episode, and an action delay's commands in flight:
SCN412), the `train` block's settings and hyperparameters, and the parameters and `let`s nothing uses (SCN209).
"""

from __future__ import annotations

from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.limits import MAX_WORLDS, delay_problem, plant_steps_problem
from scenario_dsl.lang.model import ALGORITHMS, Condition, Episode, Expr, PlantSettings, RewardTerm, Train
from scenario_dsl.lang.source import Span
from scenario_dsl.lang.typecheck import CONSTANTS, Failed
from scenario_dsl.lang.units import TIME
from scenario_dsl.lang.validate.context import Context, _value_span, where
from scenario_dsl.support.suggest import did_you_mean

_ALGOS = tuple(ALGORITHMS)
_TRAIN_ALIASES = {"algorithm": "algo", "timesteps": "n_timesteps", "envs": "n_envs"}
_TRAIN_SETTINGS = ("algo", "n_timesteps", "n_envs", "worlds", "policy", "normalize", "seed", *_TRAIN_ALIASES)


class EpisodeChecks(Context):
    """Reward, episode, training and unused names."""

    def _reward(self) -> list[RewardTerm]:
        block = next((s for s in self.statements if isinstance(s, ast.RewardBlock)), None)
        if block is None:
            self._missing("reward", "e.g. `reward { -(angle^2) as upright }`")
            return []
        scope = self.signals.child()
        terms: list[RewardTerm] = []
        names: dict[str, ast.Node] = {}
        for i, item in enumerate(block.items):
            if isinstance(item, ast.Let):
                if item.name.name in scope.bindings or item.name.name in self.decls.order:
                    self.error("SCN202", f"`{item.name.name}` is already declared", item.name.span, None)
                try:
                    scope.bindings[item.name.name] = self.check.lower(item.value, scope)
                except Failed:
                    scope.failed.add(item.name.name)  # reported; its uses fail quietly
                continue
            name = item.name.name if item.name else f"term_{i}"
            if name in names:
                self.error("SCN202", f"two reward terms are called `{name}`", (item.name or item).span,
                           f"the first is at {names[name].span}")
            names[name] = item
            try:
                typed = self.check.lower(item.expr, scope)
            except Failed:
                continue
            if typed.size is not None:
                self.error("SCN304", f"a reward term must be a number, this is a {typed.size}-vector", item.expr.span,
                           "reduce it, e.g. with |v|^2, sum(v) or v[0]")
                continue
            terms.append(RewardTerm(name=name, value=typed.ir, where=where(item.span)))
        if not terms and not self.diagnostics.has_errors:
            self.error("SCN207", "the reward has no terms", block.span, "add at least one term")
        return terms

    def _condition(self, expr: ast.Expr, what: str) -> Expr | None:
        try:
            typed = self.check.lower(expr, self.signals)
        except Failed:
            return None
        if typed.size is not None:
            self.error("SCN304", f"{what} must be a single condition, this is a {typed.size}-vector", expr.span,
                       "combine with `and`/`or`, or compare a norm: |v| > 1")
            return None
        if not typed.boolean:
            self.error("SCN306", f"{what} must be a condition (a comparison), not a number", expr.span,
                       "compare it: e.g. |x| > 2.4 m")
            return None
        return typed.ir

    def _episode(self, plant: PlantSettings) -> Episode | None:
        block = next((s for s in self.statements if isinstance(s, ast.EpisodeBlock)), None)
        if block is None:
            self._missing("episode", "e.g. `episode { step = 50 ms; time_limit = 10 s }`")
            return None
        settings = tuple(i for i in block.items if isinstance(i, ast.Setting))
        values = self._settings(settings, {"step": self._value(TIME, above=0.0),
                                           "time_limit": self._value(TIME, above=0.0),
                                           "reward_at": self._choice(("step_end", "step_start"))}, "`episode`")
        terminations: list[Condition] = []
        success: Condition | None = None
        for item in block.items:
            if isinstance(item, ast.Terminate):
                condition = self._condition(item.condition, "`terminate when`")
                if condition is not None:
                    terminations.append(Condition(value=condition, reason=item.reason, where=where(item.span)))
            elif isinstance(item, ast.Success):
                if success is not None:
                    self.error("SCN208", "`success when` is given twice", item.span, "combine them with `or`")
                condition = self._condition(item.condition, "`success when`")
                hold = None if item.hold is None else self._const(item.hold, "success when ... for", TIME, above=0.0)
                chosen = self._settings(item.settings, {"end_episode": self._flag()}, "`success when`")
                if condition is not None:
                    success = Condition(value=condition, where=where(item.span),
                                        hold=hold if isinstance(hold, float) else None, **chosen)
        if "step" not in values:
            if not any(s.key.name == "step" for s in settings):
                self.error("SCN406", "the episode needs a `step` (simulated time per env step)", block.span,
                           "e.g. step = 50 ms")
            return None
        step = values["step"]
        limit = values.get("time_limit")
        over = self._over_limits(plant, step, limit, settings)
        ratio = step / plant.time_step if plant.time_step > 0 else 1.0
        if plant.time_step > 0 and over != "step" and abs(ratio - round(ratio)) > 1e-6 * max(1.0, ratio):
            self.error("SCN403",
                       f"episode step {step:g} s is not a whole number of plant steps ({plant.time_step:g} s)",
                       next(s for s in settings if s.key.name == "step").span,
                       f"use {max(1, round(ratio)) * plant.time_step:g} s, or change plant.time_step")
        if limit is not None and limit < step:
            self.error("SCN401", "time_limit is shorter than one step", _value_span(settings, "time_limit"),
                       f"the step is {step:g} s")
        return Episode(step=step, time_limit=limit, reward_at=values.get("reward_at", "step_end"),
                       terminations=terminations, success=success, where=where(block.span))

    def _over_limits(self, plant: PlantSettings, step: float, limit: float | None,
                     settings: tuple[ast.Setting, ...]) -> str | None:
        """SCN412 for plant steps past `limits` (per env step: at the plant's `time_step` when the
        file sets it, else at the episode's `step`; per episode: at `time_limit`) and for an action
        delay that keeps too many commands in flight; returns which limit was passed."""
        over = plant_steps_problem(plant.time_step, step, limit) if plant.time_step > 0 else None
        if over is not None:
            which, message, hint = over
            span = _value_span(settings, "time_limit") if which == "time_limit" else \
                self._time_step_span() or _value_span(settings, "step")
            self.error("SCN412", message, span, hint)
        for target, upper, span in self._delays:
            problem = delay_problem(upper, step, limit)
            if problem:
                self.error("SCN412", f"`{target}`: {problem}", span,
                           "bound the delay (e.g. uniform(0, 100) ms), or give the episode a shorter time_limit")
        return over[0] if over else None

    def _time_step_span(self) -> Span | None:
        """The value of the plant's `time_step`, where the file sets it."""
        for block in self.statements:
            if isinstance(block, ast.PlantBlock):
                found = [s for s in block.settings if s.key.name == "time_step" and s.value is not None]
                if found:
                    return _value_span(tuple(found), "time_step")
        return None

    def _train(self) -> Train | None:
        block = next((s for s in self.statements if isinstance(s, ast.TrainBlock)), None)
        if block is None:
            return None
        values: dict[str, Any] = {}
        hyper: dict[str, Any] = {}
        seen: dict[str, ast.Setting] = {}
        for setting in block.settings:
            key = _TRAIN_ALIASES.get(setting.key.name, setting.key.name)
            if key in seen:
                self.error("SCN208", f"`{setting.key.name}` is set twice in `train`", setting.key.span,
                           f"first set at {seen[key].span}")
                continue
            seen[key] = setting
            if setting.value is None:
                if key == "normalize" and setting.block is None:
                    values[key] = True
                else:  # a flag elsewhere is more likely a typo than `= true`: `n_timestep`
                    name = setting.key.name
                    hint = f"write `{name} = ...`" if name in _TRAIN_SETTINGS else did_you_mean(name, _TRAIN_SETTINGS)
                    self.error("SCN406", f"`{name}` needs a value", setting.span,
                               hint or f"write `{name} = ...`; only `normalize` is a flag")
                continue
            if isinstance(setting.value, ast.Ref) and setting.value.dotted in ("true", "false"):
                (values if key == "normalize" else hyper)[key] = setting.value.dotted == "true"
                continue
            if key == "algo":
                values[key] = self._choice(_ALGOS)(setting)
            elif key == "policy":
                call = setting.value
                if isinstance(call, ast.Call) and call.func.name == "mlp" and len(call.args) == 1:
                    arch = self._const(call.args[0], "mlp layers", None, tuple(range(1, 9)), above=0.0)
                    if isinstance(arch, list) and any(x != int(x) for x in arch):
                        self.error("SCN401", "layer sizes are whole numbers", call.args[0].span, "e.g. mlp([64, 64])")
                    elif isinstance(arch, list):
                        values["net_arch"] = [int(x) for x in arch]
                else:
                    self.error("SCN404", "a policy is written `mlp([64, 64])`", call.span, None)
            elif isinstance(setting.value, ast.Ref) and len(setting.value.parts) == 1 and key not in _TRAIN_SETTINGS \
                    and setting.value.parts[0].name not in (*self.constants.constants, *CONSTANTS):
                hyper[key] = setting.value.parts[0].name  # a word, e.g. activation = tanh
            else:
                value = self._const(setting.value, key, None, (None, *range(1, 9)))
                if value is None:
                    continue
                if key in ("n_timesteps", "n_envs", "worlds", "seed"):
                    if isinstance(value, list) or value != int(value) or value < (0 if key == "seed" else 1):
                        self.error("SCN401", f"`{setting.key.name}` must be a whole number"
                                   + ("" if key == "seed" else " of at least 1"), setting.value.span, None)
                        continue
                    if key == "worlds" and value > MAX_WORLDS:
                        self.error("SCN412", f"`worlds` = {int(value):,} is more than one process holds; scn allows "
                                   f"at most {MAX_WORLDS:,}", setting.value.span,
                                   "use more processes (`n_envs`) of fewer worlds")
                        continue
                    values[key] = int(value)
                elif key == "normalize":
                    values[key] = bool(value)
                elif isinstance(value, float) and value.is_integer() and "e" not in setting.value.span.text.lower() \
                        and "." not in setting.value.span.text:
                    hyper[key] = int(value)  # batch_size = 256 is an int for stable-baselines3
                else:
                    hyper[key] = value
        return Train(**{k: v for k, v in values.items() if v is not None}, hyperparams=hyper, where=where(block.span))

    def _unused(self) -> None:
        """Warn about parameters and lets that nothing reads (SCN209)."""
        declared = [*self.decls.params.items(), *self.decls.lets.items(), *self.decls.random_lets.items()]
        reward_lets = [item for block in self.statements if isinstance(block, ast.RewardBlock)
                       for item in block.items if isinstance(item, ast.Let)]
        if not declared and not reward_lets:
            return  # nothing to look for: skip the walk over every node
        used = {node.parts[0].name for f in self.files for node in f.walk() if isinstance(node, ast.Ref)}
        for name, node in declared:
            if name not in used:
                kind = "parameter" if isinstance(node, ast.Param) else "binding"
                self.diagnostics.add("SCN209", f"{kind} `{name}` is never used", node.name.span,  # type: ignore[attr-defined]
                                     "remove it, or use it")
        for item in reward_lets:
            if item.name.name not in used:
                self.diagnostics.add("SCN209", f"binding `{item.name.name}` is never used", item.name.span,
                                     "remove it, or use it")
