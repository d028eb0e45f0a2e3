"""Randomization that moves while a policy trains: automatic domain randomization (ADR) and
curriculum stages.

Two halves, because the learner decides and the workers draw:

- `Schedule` is what a worker draws from: each `adaptive(...)` parameter's current range, the
  curriculum stage and its values, and the boundary this episode pins. At each reset, with the
  `adaptive` block's `boundary_probability`, one adaptive parameter (chosen uniformly) is pinned
  at its low or high boundary (chosen uniformly) and the others are drawn uniformly from their
  ranges (OpenAI et al. 2019, "Solving Rubik's Cube with a Robot Hand", section 5). The episode's
  `tag()` goes into every step's `info["schedule"]`, so the learner knows, when the episode ends,
  which boundary and stage it measured.
- `ScheduleKeeper` is the learner's one state for every worker (vector envs, batched worlds, Ray
  actors): it collects finished episodes (`record`), moves the ranges by the ADR rule and the
  curriculum by its criteria, and gives the workers a `snapshot()` when something changed. Its
  `state()` (buffers included) is saved with each checkpoint and restored by `--resume`.

The ADR rule, per parameter and boundary: an episode pinned there adds its measure (1/0 for
success, or the return) to that boundary's buffer; when the buffer holds `buffer` episodes, their
mean at or above `thresholds[1]` moves the boundary outwards by the parameter's `step` (not past
`min`/`max`), at or below `thresholds[0]` inwards (not past the starting range: the nominal), and
the buffer empties. A range widens from `high` to `max` in ceil((max - high) / step) such updates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from scenario_dsl.lang import model as m

Array = npt.NDArray[np.float64]
SIDES = ("low", "high")


@dataclass(frozen=True)
class AdaptiveParameter:
    """One `adaptive(low, high, min, max, step)` draw: `key` is its target or `let` name."""

    key: str
    start: tuple[float, float]
    bounds: tuple[float, float]
    step: float


def adaptive_parameters(scenario: m.Scenario) -> list[AdaptiveParameter]:
    """The scenario's adaptive draws, in the order they are drawn."""
    found = []
    for block in scenario.randomizations:
        for name, dist in [*((let.name, let.value) for let in block.lets),
                           *((d.target, d.value) for d in block.draws)]:
            if isinstance(dist, m.Distribution) and dist.family == "adaptive":
                p = {k: float(np.ravel(v)[0]) for k, v in dist.params.items()}  # type: ignore[arg-type]
                found.append(AdaptiveParameter(name, (p["low"], p["high"]), (p["min"], p["max"]), p["step"]))
    return found


def _stage_values(stage: m.Stage) -> dict[str, Array]:
    return {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in stage.values.items()}


@dataclass
class Schedule:
    """What a worker draws from now (see the module docstring)."""

    ranges: dict[str, tuple[float, float]]
    stage: int = 0
    values: dict[str, Array] = field(default_factory=dict)  # curriculum variable -> the stage's value
    boundary_probability: float = 0.0
    pin: tuple[str, str] | None = None  # this episode's (parameter, "low" | "high")
    stages: list[m.Stage] = field(default_factory=list)
    episode: dict[str, Any] = field(default_factory=dict)  # the running episode's `tag()`, fixed at its reset

    @classmethod
    def of(cls, scenario: m.Scenario) -> Schedule | None:
        """The schedule a scenario starts with; None when nothing in it adapts."""
        parameters = adaptive_parameters(scenario)
        stages = scenario.curriculum.stages if scenario.curriculum is not None else []
        if not parameters and not stages:
            return None
        probability = scenario.adaptation.boundary_probability if scenario.adaptation is not None else 0.0
        return cls({p.key: p.start for p in parameters}, 0, _stage_values(stages[0]) if stages else {},
                   probability, None, list(stages))

    def update(self, snapshot: Mapping[str, Any]) -> None:
        """Take the learner's ranges and stage (`ScheduleKeeper.snapshot`)."""
        self.ranges.update({k: (float(v[0]), float(v[1])) for k, v in snapshot.get("ranges", {}).items()
                            if k in self.ranges})
        stage = int(snapshot.get("stage", self.stage))
        if self.stages and stage != self.stage:
            self.stage = min(max(stage, 0), len(self.stages) - 1)
            self.values = _stage_values(self.stages[self.stage])

    def choose_pin(self, rng: np.random.Generator) -> None:
        """Pin one parameter at a boundary for the coming episode, with the boundary probability.
        Draws from `rng` only when something is adaptive, so other scenarios' draws are unchanged."""
        self.pin = None
        if self.ranges and self.boundary_probability > 0:
            u, which, side = rng.random(), rng.integers(len(self.ranges)), rng.integers(2)
            if u < self.boundary_probability:
                self.pin = (list(self.ranges)[int(which)], SIDES[int(side)])
        # What the episode is drawn under, kept until the next reset: a snapshot that arrives
        # while it runs (vector envs reset before the learner has scored the last step) must not
        # relabel it, or the learner would score it against a boundary or stage it never saw.
        self.episode = self._now()

    def draw(self, key: str, rng: np.random.Generator, shape: tuple[int, int]) -> Array:
        """`shape` draws of adaptive parameter `key`: its pinned boundary, else uniform on its range."""
        low, high = self.ranges[key]
        if self.pin is not None and self.pin[0] == key:
            return np.full(shape, low if self.pin[1] == "low" else high)
        return low + (high - low) * rng.random(shape)

    def tag(self) -> dict[str, Any]:
        """What the learner needs of the episode when it ends (`info["schedule"]`): the boundary it
        pinned and that boundary's value, and the stage, as they were at its reset."""
        return dict(self.episode) if self.episode else self._now()

    def _now(self) -> dict[str, Any]:
        tag: dict[str, Any] = {"boundary": None, "stage": self.stage}
        if self.pin is not None:
            key, side = self.pin
            tag["boundary"] = f"{key}:{side}"
            tag["value"] = self.ranges[key][SIDES.index(side)]
        return tag


def _holds(criterion: m.Criterion, value: float) -> bool:
    return {"<": value < criterion.value, "<=": value <= criterion.value, ">": value > criterion.value,
            ">=": value >= criterion.value, "==": value == criterion.value,
            "!=": value != criterion.value}[criterion.op]


class ScheduleKeeper:
    """The learner's ADR and curriculum state (see the module docstring)."""

    def __init__(self, scenario: m.Scenario) -> None:
        self.parameters = {p.key: p for p in adaptive_parameters(scenario)}
        self.settings = scenario.adaptation or m.Adaptation()
        self.stages = scenario.curriculum.stages if scenario.curriculum is not None else []
        self.ranges: dict[str, list[float]] = {k: list(p.start) for k, p in self.parameters.items()}
        self.buffers: dict[str, list[float]] = {f"{k}:{side}": [] for k in self.parameters for side in SIDES}
        self.stage = 0
        self.window: list[tuple[float, float, float]] = []  # this stage's (success, return, length)
        self.updates = 0  # ADR decisions taken (a buffer filled)
        self.stage_changes: list[tuple[int, int]] = []  # (episodes recorded, new stage)
        self.episodes = 0

    @property
    def active(self) -> bool:
        return bool(self.parameters or self.stages)

    def record(self, tag: Mapping[str, Any] | None, success: bool | None, episode_return: float,
               length: float) -> bool:
        """One finished episode; returns whether the ranges or the stage changed."""
        if tag is None:
            return False
        self.episodes += 1
        changed = False
        boundary = tag.get("boundary")
        if boundary is not None and boundary in self.buffers and self._current(boundary, tag):
            measure = episode_return if self.settings.measure == "return" else float(bool(success))
            buffer = self.buffers[boundary]
            buffer.append(measure)
            if len(buffer) >= self.settings.buffer:
                changed = self._decide(boundary, float(np.mean(buffer)))
                buffer.clear()
        if self.stages and int(tag.get("stage", -1)) == self.stage and self.stage < len(self.stages) - 1:
            self.window.append((float(bool(success)), float(episode_return), float(length)))
            changed = self._maybe_advance() or changed
        return changed

    def _current(self, boundary: str, tag: Mapping[str, Any]) -> bool:
        """Whether the episode pinned the boundary where it is now: one drawn before the boundary
        moved measured another value, and is not scored (OpenAI's buffers start empty after a move)."""
        if "value" not in tag:
            return True
        key, _, side = boundary.rpartition(":")
        return float(tag["value"]) == self.ranges[key][SIDES.index(side)]

    def _decide(self, boundary: str, mean: float) -> bool:
        key, _, side = boundary.rpartition(":")
        p, current = self.parameters[key], self.ranges[key]
        low_t, high_t = self.settings.thresholds
        i = SIDES.index(side)
        outward = -1.0 if side == "low" else 1.0
        self.updates += 1
        if mean >= high_t:  # widen, not past the hard bound
            limit = p.bounds[i]
            moved = current[i] + outward * p.step
            moved = max(moved, limit) if side == "low" else min(moved, limit)
        elif mean <= low_t:  # narrow, not inside the starting range
            limit = p.start[i]
            moved = current[i] - outward * p.step
            moved = min(moved, limit) if side == "low" else max(moved, limit)
        else:
            return False
        if abs(moved - limit) <= 1e-9 * p.step:  # 0.5 + 0.1 + 0.1 + 0.1 is 0.7999999999999999: at 0.8
            moved = limit
        if moved == current[i]:
            return False
        current[i] = moved
        return True

    def _maybe_advance(self) -> bool:
        stage = self.stages[self.stage]
        if len(self.window) < stage.window:
            return False
        recent = np.asarray(self.window[-stage.window:])
        metrics = {"success_rate": float(recent[:, 0].mean()), "mean_return": float(recent[:, 1].mean()),
                   "mean_length": float(recent[:, 2].mean())}
        if not all(_holds(c, metrics[c.metric]) for c in stage.until):
            return False
        self.stage += 1
        self.window = []
        self.stage_changes.append((self.episodes, self.stage))
        return True

    def snapshot(self) -> dict[str, Any]:
        """What the workers draw from (`Schedule.update`)."""
        return {"ranges": {k: list(v) for k, v in self.ranges.items()}, "stage": self.stage}

    def metrics(self) -> dict[str, float]:
        """For the training log: each range's ends, the stage, the decisions taken."""
        out: dict[str, float] = {}
        for key, (low, high) in self.ranges.items():
            out[f"adaptive/{key}_low"] = low
            out[f"adaptive/{key}_high"] = high
        if self.parameters:
            out["adaptive/updates"] = self.updates
        if self.stages:
            out["curriculum/stage"] = self.stage
        return out

    def state(self) -> dict[str, Any]:
        """Everything, as JSON (saved with checkpoints)."""
        return {"ranges": {k: list(v) for k, v in self.ranges.items()},
                "buffers": {k: list(v) for k, v in self.buffers.items()}, "stage": self.stage,
                "window": [list(row) for row in self.window], "updates": self.updates, "episodes": self.episodes,
                "stage_changes": [list(change) for change in self.stage_changes]}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take back a `state()`: exactly, for the parameters and stages this scenario still has."""
        for key, value in state.get("ranges", {}).items():
            if key in self.ranges:
                self.ranges[key] = [float(value[0]), float(value[1])]
        for key, value in state.get("buffers", {}).items():
            if key in self.buffers:
                self.buffers[key] = [float(x) for x in value]
        if self.stages:
            self.stage = min(int(state.get("stage", 0)), len(self.stages) - 1)
        self.window = [tuple(row) for row in state.get("window", [])]  # type: ignore[misc]
        self.updates = int(state.get("updates", 0))
        self.episodes = int(state.get("episodes", 0))
        self.stage_changes = [tuple(x) for x in state.get("stage_changes", [])]  # type: ignore[misc]


def predicted_updates(parameter: AdaptiveParameter) -> dict[str, int]:
    """ADR decisions at each boundary that widen the range from its start to its bounds."""
    return {"low": math.ceil(round((parameter.start[0] - parameter.bounds[0]) / parameter.step, 9)),
            "high": math.ceil(round((parameter.bounds[1] - parameter.start[1]) / parameter.step, 9))}
