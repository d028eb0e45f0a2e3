"""stable-baselines3 callbacks of `scn train`: checkpoints, periodic evaluation, the episode log
and the progress display.

Checkpoints and evaluations run at the start of a rollout, when the last update is done and
every counted timestep is in the model (and its replay buffer): a checkpoint is always a state
training can continue from. For on-policy algorithms that is once per `n_steps * n_envs`
timesteps, so `save_freq` and `eval_freq` are rounded up to whole rollouts.
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import CSVOutputFormat

from scenario_dsl.runtime.env import DROPPED
from scenario_dsl.train import rundir
from scenario_dsl.train.evaluation import FAILURE_PREFIXES, make_policy, run_episodes, summarize


def vec_normalize_of(model: Any) -> Any | None:
    """The model's `VecNormalize` wrapper, if it trains with one."""
    return model.get_vec_normalize_env()


class RunClock:
    """A run's training wall time: the seconds its checkpoint (or finished run) had counted before
    this process, plus this process's. Saved with each checkpoint, so a killed and resumed run's
    clock goes on from its checkpoint."""

    def __init__(self, before: float = 0.0) -> None:
        self.before, self.started = before, time.monotonic()

    def seconds(self) -> float:
        return round(self.before + time.monotonic() - self.started, 2)


class CheckpointCallback(BaseCallback):
    """Every `save_freq` timesteps (and at the end), an atomic checkpoint; keeps the newest `keep`."""

    def __init__(self, run: Path, save_freq: int, keep: int, off_policy: bool, log: Any,
                 clock: RunClock | None = None, extra: Callable[[], dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.run, self.save_freq, self.keep, self.off_policy, self.log = run, save_freq, keep, off_policy, log
        self.clock = clock or RunClock()
        self.extra = extra  # more of the run's state for state.json (the ADR ranges and curriculum stage)
        self.last = 0

    def _on_training_start(self) -> None:
        self.last = self.num_timesteps

    def _on_rollout_start(self) -> None:
        if self.num_timesteps - self.last >= self.save_freq:
            self.save()

    def _on_step(self) -> bool:
        return True

    def save(self) -> None:
        state = {"timesteps": int(self.num_timesteps), "time": time.time(), "wall_seconds": self.clock.seconds(),
                 **(self.extra() if self.extra is not None else {})}
        rundir.save_snapshot(rundir.checkpoint_folder(self.run, self.num_timesteps), self.model,
                             vec_normalize_of(self.model), state, replay_buffer=self.off_policy)
        rundir.prune_checkpoints(self.run, self.keep)
        self.last = self.num_timesteps
        self.log(f"checkpoint at {self.num_timesteps} timesteps")


class EvalCallback(BaseCallback):
    """Every `eval_freq` timesteps, evaluate the policy on its own env (seeded `seed`, the same
    episodes each time, deterministic actions); log to evaluations.csv; keep the best model.
    `time` is the Unix time of the evaluation; `wall_seconds` the run's training wall time so far
    (`RunClock`), what a learning curve over time plots."""

    COLUMNS = ("timesteps", "mean_return", "std_return", "min_return", "max_return", "mean_length",
               "success_rate", "failed", "time", "wall_seconds")

    def __init__(self, run: Path, env: Any, eval_freq: int, episodes: int, seed: int, log: Any,
                 clock: RunClock | None = None) -> None:
        super().__init__()
        self.run, self.env, self.eval_freq, self.log = run, env, eval_freq, log
        self.clock = clock or RunClock()
        self.episodes, self.seed = episodes, seed
        self.last = 0
        rows = rundir.read_csv(run / rundir.EVALUATIONS_CSV)
        self.best = max((float(r["mean_return"]) for r in rows), default=-math.inf)
        self.csv = rundir.CsvLog(run / rundir.EVALUATIONS_CSV, self.COLUMNS)

    def _on_training_start(self) -> None:
        self.last = self.num_timesteps

    def _on_rollout_start(self) -> None:
        if self.eval_freq and self.num_timesteps - self.last >= self.eval_freq:
            self.evaluate()

    def _on_training_end(self) -> None:
        if self.eval_freq and self.num_timesteps > self.last:
            self.evaluate()
        self.csv.close()

    def _on_step(self) -> bool:
        return True

    def evaluate(self) -> None:
        self.last = self.num_timesteps
        normalize = vec_normalize_of(self.model)
        policy = make_policy(self.model, normalize, deterministic=True)
        s = summarize(run_episodes(policy, self.env, self.episodes, self.seed))
        self.csv.write({"timesteps": self.num_timesteps, "mean_return": s.mean_return, "std_return": s.std_return,
                        "min_return": s.min_return, "max_return": s.max_return, "mean_length": s.mean_length,
                        "success_rate": "" if s.success_rate is None else s.success_rate, "failed": s.failed,
                        "time": time.time(),
                        "wall_seconds": self.clock.seconds()})
        self.logger.record("eval/mean_reward", s.mean_return)
        self.logger.record("eval/mean_ep_length", s.mean_length)
        if s.success_rate is not None:
            self.logger.record("eval/success_rate", s.success_rate)
        better = s.mean_return > self.best
        if better:
            self.best = s.mean_return
            rundir.save_best(self.run, self.model, normalize, {"timesteps": int(self.num_timesteps),
                                                                "mean_return": s.mean_return})
        self.log(f"evaluation at {self.num_timesteps} timesteps: mean return {s.mean_return:.2f} "
                 f"± {s.std_return:.2f}" + (" (new best)" if better else ""))


class EpisodeLog(BaseCallback):
    """One row per finished training episode in episodes.csv (return, length, each reward term's
    sum, how it ended); counts episodes cut short by a failing simulation (`failed`) and those
    dropped with a lost Ray worker (`dropped`, ending "worker_lost")."""

    def __init__(self, run: Path, terms: list[str], n_envs: int, failed: int = 0, dropped: int = 0) -> None:
        super().__init__()
        self.terms = terms
        self.columns = ["timesteps", "return", "length", *(f"term_{t}" for t in terms), "success", "ending", "time"]
        self.csv = rundir.CsvLog(run / rundir.EPISODES_CSV, self.columns)
        self.sums = np.zeros((n_envs, len(terms)))
        self.failed, self.dropped = failed, dropped
        self.recent: deque[float] = deque(maxlen=100)

    def _on_step(self) -> bool:
        infos = self.locals.get("infos")
        dones = self.locals.get("dones")
        if infos is None or dones is None:  # ARS runs its own episodes
            return True
        for i, info in enumerate(infos):
            terms = info.get("reward_terms")
            if terms is not None and i < len(self.sums):
                self.sums[i] += [terms.get(t, 0.0) for t in self.terms]
            if not dones[i]:
                continue
            episode = info.get("episode", {})
            ending = info.get("termination_reason") or info.get("truncation_reason") or "terminated"
            if info.get("TimeLimit.truncated") and "truncation_reason" not in info:
                ending = "time_limit"
            if str(ending).startswith(FAILURE_PREFIXES):
                self.failed += 1
                ending = str(ending).split(":")[0]
            elif ending == DROPPED:
                self.dropped += 1
            row = {"timesteps": self.num_timesteps, "return": episode.get("r", ""), "length": episode.get("l", ""),
                   "success": "" if "is_success" not in info else int(bool(info["is_success"])),
                   "ending": ending, "time": time.time()}
            row.update({f"term_{t}": float(v) for t, v in zip(self.terms, self.sums[i], strict=True)})
            self.csv.write(row)
            if "r" in episode:
                self.recent.append(float(episode["r"]))
            self.sums[i] = 0.0
        self.logger.record("rollout/failed_episodes", self.failed)
        if self.dropped:
            self.logger.record("rollout/dropped_episodes", self.dropped)
        return True

    def _on_training_end(self) -> None:
        self.csv.close()

    @property
    def mean_return(self) -> float | None:
        return float(np.mean(self.recent)) if self.recent else None


class ProgressDisplay(BaseCallback):
    """Timesteps, steps per second, mean episode return and ETA: a rich progress bar on a
    terminal, else a plain line every `every` seconds (for logs)."""

    def __init__(self, total: int, episodes: EpisodeLog, stream: TextIO | None = None, every: float = 30.0,
                 rich: bool | None = None) -> None:
        super().__init__()
        # sys.stderr as it is now, not as it was when this module was imported (it may be replaced since)
        stream = sys.stderr if stream is None else stream
        self.total, self.episodes, self.stream, self.every = total, episodes, stream, every
        self.rich = stream.isatty() if rich is None else rich
        self.progress: Any = None
        self.task: Any = None
        self.start_time = self.last_print = 0.0
        self.start_steps = 0

    def message(self, text: str) -> None:
        """Print a line above the bar (checkpoints, evaluations)."""
        if self.progress is not None:
            self.progress.console.print(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _on_training_start(self) -> None:
        self.start_time = self.last_print = time.monotonic()
        self.start_steps = self.num_timesteps
        if self.rich:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} steps/s"), TextColumn("mean return {task.fields[mean]}"),
                TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(file=self.stream), refresh_per_second=4)
            self.progress.start()
            self.task = self.progress.add_task("train", total=self.total, completed=self.num_timesteps,
                                               rate="-", mean="-")

    def _on_step(self) -> bool:
        now = time.monotonic()
        if self.progress is not None:
            if now - self.last_print >= 0.25:
                self.last_print = now
                self.progress.update(self.task, completed=self.num_timesteps, rate=f"{self.rate(now):.0f}",
                                     mean=self._mean())
        elif now - self.last_print >= self.every:
            self.last_print = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()
        return True

    def _on_training_end(self) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=self.num_timesteps, mean=self._mean())
            self.progress.stop()
            self.progress = None
        self.stream.write(self.line(time.monotonic()) + "\n")
        self.stream.flush()

    def rate(self, now: float) -> float:
        return (self.num_timesteps - self.start_steps) / max(now - self.start_time, 1e-9)

    def line(self, now: float) -> str:
        rate = self.rate(now)
        left = max(self.total - self.num_timesteps, 0)
        eta = _clock(left / rate) if rate > 0 else "?"
        return (f"timesteps {self.num_timesteps}/{self.total}  {rate:.0f} steps/s  mean return {self._mean()}  "
                f"ETA {eta}")

    def _mean(self) -> str:
        mean = self.episodes.mean_return
        return "-" if mean is None else f"{mean:.2f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class AppendingCSV(CSVOutputFormat):
    """stable-baselines3's CSV log, continuing an existing file (a resumed run) instead of
    truncating it."""

    def __init__(self, filename: str | Path) -> None:
        path = Path(filename)
        if path.is_file() and path.stat().st_size > 0:
            self.file = open(path, "r+", encoding="utf-8")
            header = self.file.readline().rstrip("\n")
            self.keys = header.split(",") if header else []
            self.file.seek(0, 2)
            self.separator, self.quotechar = ",", '"'
        else:
            super().__init__(str(path))
