"""`scn eval`: run a trained policy for a number of episodes and summarize them; record an
episode as a self-contained Meshcat HTML animation or as a video.

`run_episodes` is shared with training (the periodic evaluation of `callbacks.EvalCallback`).
Episode `i` of an evaluation seeded `s` resets the env with seed `s + i`, so two evaluations
with the same seed see the same initial states.

Loading a model is loading a pickle: `load_policy` accepts only run directories of `scn train`
(trusted artifacts) and the models inside them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.compiler.artifacts import load_compiled
from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.runtime.env import make_env
from scenario_dsl.runtime.vec_env import default_start_method
from scenario_dsl.runtime.workers import OOM_KILLER, WorkerDied
from scenario_dsl.train import rundir
from scenario_dsl.train.export import exported_info, load_exported, normalizer_of
from scenario_dsl.train.hyperparams import algorithm_class

#: `truncation_reason` prefixes of episodes cut short by a failing simulation (NaN, divergence).
FAILURE_PREFIXES = ("simulator failure", "evaluation failure")
DEFAULT_EVAL_SEED = 1_000_003  # evaluations use seeds of their own, away from the training workers'

Policy = Callable[[np.ndarray], np.ndarray]


@dataclass
class EpisodeResult:
    """One episode: its return, length, the sum of each reward term, how it ended, the seed its
    reset took (the same seed draws the same per-episode randomization for every policy) and what
    that reset drew."""

    ret: float
    length: int
    terms: dict[str, float]
    ending: str
    success: bool | None = None
    seed: int | None = None
    draws: dict[str, float | list[float]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.ending.startswith(FAILURE_PREFIXES)

    def to_json(self) -> dict[str, Any]:
        """`scn eval --json`'s record of one episode."""
        return {"seed": self.seed, "return": self.ret, "length": self.length, "success": self.success,
                "ending": self.ending, "draws": self.draws}


@dataclass
class Summary:
    """Statistics over episodes (what `scn eval` prints)."""

    episodes: int
    mean_return: float
    std_return: float
    min_return: float
    max_return: float
    mean_length: float
    term_means: dict[str, float]
    success_rate: float | None
    failed: int
    success_interval: list[float] | None = None  # Wilson's 95% interval of the success rate
    endings: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def summarize(results: Sequence[EpisodeResult]) -> Summary:
    """Mean, std, min and max of the returns, mean length, per-term means, success rate."""
    returns = np.array([r.ret for r in results], dtype=float)
    terms = {name: float(np.mean([r.terms[name] for r in results])) for name in (results[0].terms if results else {})}
    successes = [bool(r.success) for r in results if r.success is not None]
    endings: dict[str, int] = {}
    for r in results:
        endings[r.ending] = endings.get(r.ending, 0) + 1
    return Summary(
        episodes=len(results), mean_return=float(returns.mean()) if len(returns) else math.nan,
        std_return=float(returns.std()) if len(returns) else math.nan,
        min_return=float(returns.min()) if len(returns) else math.nan,
        max_return=float(returns.max()) if len(returns) else math.nan,
        mean_length=float(np.mean([r.length for r in results])) if results else math.nan,
        term_means=terms, success_rate=float(np.mean(successes)) if successes else None,
        failed=sum(r.failed for r in results), endings=endings,
        success_interval=list(wilson_interval(sum(successes), len(successes))) if successes else None)


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval (95% by default) for a rate of `successes` in `n` trials: unlike
    the normal approximation it stays inside [0, 1] and is not empty at 0 or n successes."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: rounding would leave p outside
    return (low, 1.0 if successes == n else min(1.0, centre + half))


def run_episodes(policy: Policy, env: Any, episodes: int, seed: int, *,
                 on_step: Callable[[], None] | None = None) -> list[EpisodeResult]:
    """Run `episodes` episodes of `env` (a `ScenarioEnv`), episode `i` reset with `seed + i`."""
    import torch

    results = []
    has_success = env.compiled.has_success
    for i in range(episodes):
        # Stochastic actions draw from torch's generator: seeded per episode (and put back after,
        # for the training that calls this) so an episode depends on its seed alone, in any process.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + i)
            results.append(_episode(policy, env, seed + i, has_success, on_step))
    return results


def _episode(policy: Policy, env: Any, seed: int, has_success: bool,
             on_step: Callable[[], None] | None) -> EpisodeResult:
    """One episode reset with `seed`."""
    observation, reset_info = env.reset(seed=seed)
    total, length, terms = 0.0, 0, dict.fromkeys(env.compiled.reward_terms, 0.0)
    while True:
        observation, reward, terminated, truncated, info = env.step(policy(observation))
        total += float(reward)
        length += 1
        for name, value in info.get("reward_terms", {}).items():
            terms[name] += value
        if on_step is not None:
            on_step()
        if terminated or truncated:
            break
    if terminated:
        ending = info.get("termination_reason", "terminated")
    else:
        ending = info.get("truncation_reason", "truncated")
    success = bool(info.get("is_success", False)) if has_success else None
    draws = dict(reset_info.get("randomization", {}))
    return EpisodeResult(total, length, terms, ending, success, seed, draws)


def make_policy(model: Any, vec_normalize: Any | None, deterministic: bool) -> Policy:
    """The model's action for one (raw) observation, normalized as in training when it was."""

    def act(observation: np.ndarray) -> np.ndarray:
        if vec_normalize is not None:
            observation = vec_normalize.normalize_obs(observation)
        action, _ = model.predict(observation, deterministic=deterministic)
        return np.asarray(action)

    return act


@dataclass
class LoadedPolicy:
    """A trained model with what evaluating it needs."""

    model: Any
    vec_normalize: Any | None
    scenario: Any  # model.Scenario; None for an exported policy (`train.export`)
    run: Path
    model_path: Path
    # the trained scenario's action bounds in its units ([lower], [upper]); None where unknown (an
    # export older than this field): a normalized action of [-1, 1] means these forces or positions
    action_bounds: tuple[list[float], list[float]] | None = None


def load_policy(path: str | Path, device: str = "auto") -> LoadedPolicy:
    """The model of a run directory (its best, else final, else latest checkpoint) or a model file
    inside one, with its normalization statistics and the run's scenario. Unpickles: trusted
    run directories only."""
    p = Path(path)
    if not p.exists():
        raise rundir.RunDirError("no such file or directory", path=str(path))
    if exported_info(p) is not None:  # `scn export`'s zip: see `load_exported_policy`
        raise rundir.RunDirError("an exported policy carries no scenario: name the one to evaluate it in",
                                 "add --scenario FILE, e.g. the scenario it was trained on", path=str(path))
    run = rundir.find_run_dir(p)
    meta = rundir.read_run(run)
    model_path = rundir.model_in(p)
    scenario = load_compiled(run / rundir.SCENARIO_JSON)
    cls = algorithm_class(meta["config"]["algo"])
    try:
        model = cls.load(model_path, device=device)
    except (ValueError, KeyError) as exc:  # not a zip, or a zip without a saved model in it
        raise rundir.RunDirError(f"cannot load it as a {meta['config']['algo'].upper()} model "
                                 f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                                 path=str(model_path)) from None
    vec_normalize = None
    stats = model_path.parent / rundir.VECNORMALIZE
    if stats.is_file():
        import pickle

        with open(stats, "rb") as f:
            vec_normalize = pickle.load(f)
        vec_normalize.training = False
    return LoadedPolicy(model, vec_normalize, scenario, run, model_path, (scenario.action.lower, scenario.action.upper))


def load_exported_policy(path: str | Path, scenario: Any, device: str = "auto") -> LoadedPolicy:
    """A zip of `scn export`, to act in `scenario` (model.Scenario): nothing in it is unpickled
    (`export.load_exported`). A policy that does not fit the scenario is SCN604."""
    p = Path(path)
    info = exported_info(p)
    if info is None:
        raise rundir.RunDirError("not a policy written by `scn export`", path=str(path))
    env = make_env(scenario)
    try:
        model = load_exported(p, env, device)
    except ValueError as exc:
        raise PolicyMismatch(str(exc), "evaluate in a variant of the scenario it was trained on",
                             path=scenario.path) from None
    finally:
        env.close()
    loaded = LoadedPolicy(model, normalizer_of(info), None, p.parent, p, _exported_bounds(info, p))
    _check_action_bounds(loaded, scenario)
    return loaded


def _exported_bounds(info: dict[str, Any], path: Path) -> tuple[list[float], list[float]] | None:
    """`action_bounds` of an export's scn.json (None when absent: an older export). The zip may come
    from anyone: anything but two lists of numbers of one length is SCN604, not a traceback."""
    bounds = info.get("action_bounds")
    if bounds is None:
        return None
    lower, upper = (bounds.get("lower"), bounds.get("upper")) if isinstance(bounds, dict) else (None, None)
    if not (isinstance(lower, list) and isinstance(upper, list) and len(lower) == len(upper) and lower
            and all(type(v) in (int, float) and math.isfinite(v) for v in (*lower, *upper))):
        raise PolicyMismatch("its scn.json's `action_bounds` is not two lists of finite numbers of one length",
                             "export the policy again with `scn export`", path=str(path))
    return [float(v) for v in lower], [float(v) for v in upper]


class PolicyMismatch(ScnError, ValueError):
    """The policy's observation or action space is not the scenario's (SCN604, exit 2)."""

    code = "SCN604"
    exit_code = 2


def check_fits(loaded: LoadedPolicy, scenario: Any) -> None:
    """Raise `PolicyMismatch` unless `scenario`'s spaces are those the policy was trained on
    (same shapes; the same action bounds, or the actions would mean other forces)."""
    env = make_env(scenario)
    try:
        mine: tuple[Any, Any] = (loaded.model.observation_space, loaded.model.action_space)
        theirs: tuple[Any, Any] = (env.observation_space, env.action_space)  # Boxes: scn compiles no other
    finally:
        env.close()
    same = mine[0].shape == theirs[0].shape and mine[1].shape == theirs[1].shape \
        and np.array_equal(mine[1].low, theirs[1].low) and np.array_equal(mine[1].high, theirs[1].high)
    if not same:
        raise PolicyMismatch(f"the policy was trained on observations {_space(mine[0])} and actions {_space(mine[1])}; "
                             f"this scenario has observations {_space(theirs[0])} and actions {_space(theirs[1])}",
                             "evaluate in a variant of the training scenario with the same observations and action",
                             path=scenario.path)
    _check_action_bounds(loaded, scenario)


def _check_action_bounds(loaded: LoadedPolicy, scenario: Any) -> None:
    """The agent sees a normalized action (-1 to 1): the same policy on an action of other bounds
    (`in [-10, 10] N` for `in [-5, 5] N`) would push twice as hard. SCN604 unless they are the same."""
    if loaded.action_bounds is None:
        return
    lower, upper = loaded.action_bounds
    action = scenario.action
    if len(lower) == len(action.lower) and np.allclose(lower, action.lower) and np.allclose(upper, action.upper):
        return
    raise PolicyMismatch(f"the policy was trained on actions in [{_values(lower)}, {_values(upper)}]; this "
                         f"scenario's action `{action.name}` is in [{_values(action.lower)}, {_values(action.upper)}]"
                         " (in SI units): its actions of -1 to 1 would mean other forces or positions",
                         "evaluate in a variant with the action the policy was trained on", path=scenario.path)


def _values(values: list[float]) -> str:
    return f"{values[0]:g}" if len(set(values)) == 1 else "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _space(space: Any) -> str:
    bounds = ""
    low, high = np.unique(space.low), np.unique(space.high)
    if len(low) == 1 and len(high) == 1 and np.isfinite(low[0]) and np.isfinite(high[0]):
        bounds = f" in [{low[0]:g}, {high[0]:g}]"
    return f"Box{space.shape}{bounds}"


def evaluate(loaded: LoadedPolicy, episodes: int, seed: int, deterministic: bool,
             scenario: Any = None, n_envs: int = 1) -> list[EpisodeResult]:
    """Run the loaded policy on a fresh env of its scenario (or of `scenario`, which
    `check_fits` has accepted). With `n_envs` > 1 the episodes are shared among that many worker
    processes (`_evaluate_in_processes`): the same episodes, in the same order."""
    if n_envs > 1 and episodes > 1:
        # no more workers than episodes or cores: more would only cost memory (the results are the same)
        workers = min(n_envs, episodes, os.cpu_count() or 1)
        return _evaluate_in_processes(loaded, episodes, seed, deterministic, scenario, workers)
    env = make_env(scenario if scenario is not None else loaded.scenario)
    try:
        return run_episodes(make_policy(loaded.model, loaded.vec_normalize, deterministic), env, episodes, seed)
    finally:
        env.close()


# What a worker of `_evaluate_in_processes` holds: its own copy of the policy and its own env.
_WORKER: dict[str, Any] = {}


def _start_worker(path: str, exported: bool, scenario: Any, device: str, deterministic: bool) -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker: the workers are the parallelism
    loaded = load_exported_policy(path, scenario, device) if exported else load_policy(path, device)
    _WORKER["policy"] = make_policy(loaded.model, loaded.vec_normalize, deterministic)
    _WORKER["env"] = make_env(scenario if scenario is not None else loaded.scenario)


def _episodes_in_worker(first_seed: int, episodes: int) -> list[EpisodeResult]:
    return run_episodes(_WORKER["policy"], _WORKER["env"], episodes, first_seed)


def _evaluate_in_processes(loaded: LoadedPolicy, episodes: int, seed: int, deterministic: bool,
                           scenario: Any, n_envs: int) -> list[EpisodeResult]:
    """`evaluate` in `n_envs` worker processes. Each loads the policy from its file (the parent's
    load has checked it) and builds its env once, then runs blocks of consecutive episodes. An
    episode depends only on its reset seed (`seed + i`), not on the episodes an env ran before,
    so the results, put back in episode order, are those of one process. Blocks of about a
    quarter of a worker's share even out episodes that end early."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    block = max(1, math.ceil(episodes / (4 * n_envs)))
    starts = list(range(0, episodes, block))
    context = mp.get_context(default_start_method())
    exported = loaded.scenario is None  # `load_exported_policy`'s: no run directory behind it
    device = str(getattr(loaded.model, "device", "cpu"))
    try:
        with ProcessPoolExecutor(n_envs, mp_context=context, initializer=_start_worker,
                                 initargs=(str(loaded.model_path), exported, scenario, device, deterministic)) as pool:
            blocks = pool.map(_episodes_in_worker, [seed + s for s in starts],
                              [min(block, episodes - s) for s in starts])
            return [result for results in blocks for result in results]
    except BrokenProcessPool:  # the pool does not say which worker ended, or how
        raise WorkerDied(f"a worker process of the evaluation ({n_envs} of them) ended abruptly: killed by a "
                         "signal, or its simulator aborted the process",
                         f"{OOM_KILLER}: evaluate with fewer --n-envs, which gives the same episodes and "
                         "results", path=str(loaded.model_path)
                         ) from None


def record_html(loaded: LoadedPolicy, out: Path, seed: int, deterministic: bool,
                scenario: Any = None) -> EpisodeResult:
    """Run one episode with Meshcat and write it as a self-contained HTML animation (Meshcat's
    `StaticHtml` after `PublishRecording`): open it in a browser, offline, and press play."""
    env = make_env(scenario if scenario is not None else loaded.scenario, render_mode="human")
    meshcat = env.meshcat
    assert meshcat is not None  # render_mode="human" starts one
    try:
        fps = float(env.metadata.get("render_fps") or 30.0)
        env.reset(seed=seed)  # builds the scene before recording starts
        meshcat.StartRecording(frames_per_second=fps, set_visualizations_while_recording=False)
        (result,) = run_episodes(make_policy(loaded.model, loaded.vec_normalize, deterministic), env, 1, seed)
        meshcat.StopRecording()
        meshcat.PublishRecording()
        rundir.write_text(out, meshcat.StaticHtml())
        return result
    finally:
        env.close()


def record_video(loaded: LoadedPolicy, out: Path, seed: int, deterministic: bool,
                 camera: str = "auto", scenario: Any = None) -> EpisodeResult:
    """Run one episode rendering `rgb_array` frames from the camera view `camera` (framed on the
    scene, `compiler.camera`) and write them as a GIF (Pillow) or, with imageio-ffmpeg installed,
    an MP4."""
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"--video writes .gif or .mp4 files, not {out.name!r}")
    if suffix == ".mp4":
        try:
            import imageio.v2 as imageio
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise ValueError("writing MP4 needs imageio-ffmpeg (pip install 'imageio[ffmpeg]'); "
                             "or write a GIF: --video out.gif") from None
    env = make_env(scenario if scenario is not None else loaded.scenario, render_mode="rgb_array", camera=camera)
    frames: list[np.ndarray] = []
    try:
        fps = float(env.metadata.get("render_fps") or 30.0)
        env.reset(seed=seed)
        frames.append(env.render())
        (result,) = run_episodes(make_policy(loaded.model, loaded.vec_normalize, deterministic), env, 1, seed,
                                 on_step=lambda: frames.append(env.render()))
    finally:
        env.close()
    tmp = out.with_name(f".{out.name}.tmp{suffix}")
    if suffix == ".mp4":
        imageio.mimwrite(tmp, frames, fps=fps)
    else:
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    tmp.replace(out)
    return result


def format_summary(s: Summary, *, model: str, deterministic: bool) -> str:
    """`scn eval`'s human output."""
    lines = [f"model: {model}",
             f"episodes: {s.episodes} ({'deterministic' if deterministic else 'stochastic'} actions)",
             f"return: mean {s.mean_return:.3f}  std {s.std_return:.3f}  min {s.min_return:.3f}  "
             f"max {s.max_return:.3f}",
             f"episode length: mean {s.mean_length:.1f} steps"]
    if s.success_rate is not None:
        interval = (f" (95% interval {s.success_interval[0]:.1%} to {s.success_interval[1]:.1%})"
                    if s.success_interval is not None else "")
        lines.append(f"success rate: {s.success_rate:.1%}{interval}")
    if s.term_means:
        lines.append("reward terms (mean per episode):")
        width = max(map(len, s.term_means))
        lines += [f"  {name:<{width}}  {value:.3f}" for name, value in s.term_means.items()]
    lines.append("endings: " + ", ".join(f"{name} ({n})" for name, n in sorted(s.endings.items())))
    if s.failed:
        lines.append(f"failed simulations (NaN or divergence): {s.failed}")
    return "\n".join(lines) + "\n"
