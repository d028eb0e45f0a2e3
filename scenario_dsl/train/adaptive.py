"""The learner's side of automatic domain randomization and curricula (`sampling.adaptive`).

`ScheduleCallback` keeps the run's one `ScheduleKeeper`: it scores every finished training
episode (its `info["schedule"]` says which boundary it pinned and which stage it was drawn in;
`is_success` and the monitor's return say how it went), and when the ranges or the stage move it
hands the workers the new `snapshot()` through `env_method("set_schedule", ...)`, which every
vector env of scn forwards (subprocesses, batched worlds, Ray actors). The evaluation env
follows the same schedule, so an evaluation measures the distribution being trained on.
Each range's ends, the stage and the decisions taken go to the training log (progress.csv,
TensorBoard) at every rollout; checkpoints carry `keeper.state()` in their state.json, and
`--resume` restores it before the workers draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from scenario_dsl.lang.model import Scenario
from scenario_dsl.sampling.adaptive import ScheduleKeeper

STATE_KEY = "schedule"  # where a checkpoint's state.json keeps the keeper's state


def keeper_for(scenario: Scenario, checkpoint_state: dict[str, Any] | None = None) -> ScheduleKeeper | None:
    """The run's keeper, restored from a checkpoint's state.json when resuming; None when nothing adapts."""
    keeper = ScheduleKeeper(scenario)
    if not keeper.active:
        return None
    if checkpoint_state and STATE_KEY in checkpoint_state:
        keeper.restore(checkpoint_state[STATE_KEY])
    return keeper


def score(keeper: ScheduleKeeper, infos: Sequence[dict[str, Any]], dones: Sequence[bool]) -> bool:
    """Record the episodes that ended in a vector env's step (monitored: `info["episode"]`);
    returns whether the ranges or the stage moved."""
    changed = False
    for done, info in zip(dones, infos, strict=False):
        if done:
            episode = info.get("episode", {})
            changed = keeper.record(info.get("schedule"), info.get("is_success"), float(episode.get("r", 0.0)),
                                    float(episode.get("l", 0.0))) or changed
    return changed


class ScheduleCallback(BaseCallback):
    """Scores finished episodes, moves the schedule, tells the workers (see the module docstring)."""

    def __init__(self, keeper: ScheduleKeeper, eval_env: Any | None, log: Any) -> None:
        super().__init__()
        self.keeper, self.eval_env, self.log = keeper, eval_env, log
        self._stage = keeper.stage

    def _on_training_start(self) -> None:
        self.broadcast()
        self._record()
        self.logger.dump(self.num_timesteps)  # a row at the start: the ranges and stage training starts from

    def broadcast(self, env: Any | None = None) -> None:
        """Send the keeper's snapshot to every worker of `env` (default: the training env) and to
        the evaluation env. `train` calls it before `learn` too, whose first reset would otherwise
        draw a resumed run's first episodes from the starting ranges."""
        snapshot = self.keeper.snapshot()
        (env if env is not None else self.training_env).env_method("set_schedule", snapshot)
        if self.eval_env is not None and hasattr(self.eval_env, "set_schedule"):
            self.eval_env.set_schedule(snapshot)

    def _on_step(self) -> bool:
        infos = self.locals.get("infos")
        dones = self.locals.get("dones")
        if infos is None or dones is None:
            return True
        if score(self.keeper, infos, dones):
            self.broadcast()
            self._record()
            if self.keeper.stage != self._stage:
                self._stage = self.keeper.stage
                name = self.keeper.stages[self.keeper.stage].name
                self.log(f"curriculum: stage {self.keeper.stage} (`{name}`) from {self.num_timesteps} timesteps")
        return True

    def _on_rollout_end(self) -> None:
        self._record()

    def _record(self) -> None:
        for key, value in self.keeper.metrics().items():
            self.logger.record(key, value)
