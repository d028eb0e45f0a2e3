"""`scn train`: train a stable-baselines3 / sb3-contrib agent on a scenario, into a run directory
that holds everything needed to resume or evaluate it (layout: `scenario_dsl.train.rundir`).

`start` begins a run, `resume` continues one from its newest complete checkpoint with the
timestep counter, replay buffer, normalization statistics and global random state restored.
A resumed run is reproducible from its checkpoint (the environments are reseeded from the run's
seed and the checkpoint's timestep count), not bit-for-bit the run that was killed: work done
after the last checkpoint is redone, and the rows it had logged are dropped first.

Environments: with `ray` set, `n_envs` Ray actors of `worlds` environments each, spread over the
cluster's nodes (`runtime.ray_env`; environment `i` seeded `seed + i` as below, where each
worker ran in the run's workers.json); else, with `worlds > 1`, `n_envs` processes of `worlds`
worlds each in one simulator (`runtime.batch_procs`, environment `i` seeded `seed + i`); else `SubprocVecEnv` of
`EnvFactory`s when `n_envs > 1` (worker `i` seeded `seed + i`), else `DummyVecEnv`; then
`VecMonitor`; then `VecNormalize` when `normalize` is set (its statistics are saved with every
checkpoint). Evaluation uses its own env in this process, with
seeds of its own (`evaluation.DEFAULT_EVAL_SEED` above the run's seed).
"""

from __future__ import annotations

import importlib.util
import json
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.compiler.artifacts import compiled_document, load_compiled, scenario_hash
from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.lang.model import Scenario
from scenario_dsl.runtime.batch_procs import make_vec_env as make_batches
from scenario_dsl.runtime.env import DROPPED, EnvFactory, make_env
from scenario_dsl.runtime.images import STATE_KEY
from scenario_dsl.runtime.workers import OOM_KILLER, PIPE_ERRORS, WorkerDied, dead_workers, exit_status, stop_workers
from scenario_dsl.support.version import versions as scn_versions
from scenario_dsl.train import evaluation, rundir
from scenario_dsl.train.adaptive import STATE_KEY as SCHEDULE_KEY
from scenario_dsl.train.adaptive import ScheduleCallback, keeper_for
from scenario_dsl.train.callbacks import (
    AppendingCSV,
    CheckpointCallback,
    EpisodeLog,
    EvalCallback,
    ProgressDisplay,
    RunClock,
)
from scenario_dsl.train.evaluation import DEFAULT_EVAL_SEED, FAILURE_PREFIXES
from scenario_dsl.train.hyperparams import ConfigError, TrainConfig, algorithm_class, algorithm_kwargs, check_spaces

Log = Callable[[str], None]


class TrainingDiverged(ScnError, RuntimeError):
    """The learner's numbers became NaN (usually rewards or observations of enormous magnitude
    from a simulation on its way to diverging): SCN603."""

    code = "SCN603"


def tensorboard_available() -> bool:
    """TensorBoard logs are written only when the `tensorboard` package is installed."""
    return importlib.util.find_spec("tensorboard") is not None


def make_vec_env(scenario: Scenario, config: TrainConfig, seed: int) -> Any:
    """The training environments, monitored: with `worlds > 1`, `n_envs` processes of `worlds`
    worlds in one simulator each (`runtime.batch_procs`); else subprocess workers when
    `n_envs > 1`; or, with `ray` set, Ray actors. Environment i is seeded `seed + i` every way."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    if config.ray is not None:
        return VecMonitor(ray_workers(scenario, config, seed))
    if config.worlds > 1:
        return VecMonitor(make_batches(scenario, n_envs=config.n_envs, worlds=config.worlds, seed=seed))
    factories = [EnvFactory(scenario, seed=seed + i) for i in range(config.n_envs)]
    venv = SubprocVecEnv(factories) if config.n_envs > 1 else DummyVecEnv(factories)  # type: ignore[arg-type]
    return VecMonitor(venv)


def ray_workers(scenario: Scenario, config: TrainConfig, seed: int) -> Any:
    """`config.n_envs` Ray env workers (`runtime.ray_env.RayVecEnv`), after joining the cluster
    `config.ray` names ("local": one started in this process)."""
    try:
        from scenario_dsl.runtime import ray_env  # Ray is an optional extra: imported only when asked for
    except ImportError as exc:
        raise ConfigError(f"`ray` needs Ray, which is not installed here ({exc}); install it with "
                          "pip install -e '.[ray]'") from None
    ray_env.connect(None if config.ray == "local" else config.ray, num_cpus=config.n_envs * config.cpus_per_worker)
    return ray_env.RayVecEnv(scenario, config.n_envs, config.worlds, seed=seed, cpus_per_worker=config.cpus_per_worker)


def _ray_venv(model: Any) -> Any | None:
    """The model's `RayVecEnv`, under its wrappers, if it trains on Ray workers."""
    venv = model.get_env().unwrapped  # the innermost: wrappers forward attribute reads to it
    return venv if hasattr(venv, "on_replaced") else None


def stop_local_ray(config: TrainConfig) -> None:
    """Shut down the Ray instance a run started inside itself (`ray = local`), not one it joined
    or one the caller had started."""
    if config.ray is not None:
        from scenario_dsl.runtime import ray_env  # present: the run used it

        ray_env.disconnect()


def build_model(scenario: Scenario, config: TrainConfig) -> Any:
    """The environments and a fresh model; a setting the algorithm rejects raises `ConfigError`
    (after closing the environments)."""
    from stable_baselines3.common.vec_env import VecNormalize

    venv = make_vec_env(scenario, config, config.seed)
    try:
        check_spaces(config, venv.action_space)
        if config.normalize:
            venv = VecNormalize(venv, gamma=float(config.hyperparams.get("gamma", 0.99)),
                                **normalized_observations(venv.observation_space))
        cls = algorithm_class(config.algo)
        try:
            return cls(policy_for(venv.observation_space), venv, seed=config.seed, device=config.device, verbose=0,
                       **algorithm_kwargs(config, venv.action_space))
        except (ValueError, AssertionError, TypeError, KeyError) as exc:
            raise ConfigError(f"{config.algo.upper()} rejects these settings: {str(exc).splitlines()[0]}") from None
    except BaseException:
        venv.close()
        raise


def warm_start(model: Any, trained_agent: str | Path, scenario: Scenario, config: TrainConfig) -> None:
    """Copy a trained policy's weights (and its observation normalization) into a new model
    (RL Zoo's `--trained-agent`). The algorithm, the network and the spaces must be the same:
    `ConfigError` or `PolicyMismatch` (SCN604) otherwise. Loads pickles: trusted runs only."""
    if evaluation.exported_info(Path(trained_agent)) is not None:
        # `scn export` zeroes the critic (acting needs none): an actor-critic method fine-tuned
        # from it would first unlearn the actor against a critic that knows nothing.
        raise rundir.RunDirError("an exported policy keeps the actor only (its critic is dropped), so training "
                                 "cannot go on from it", "give the run directory it was exported from "
                                 "(its `source` in scn.json)", path=str(trained_agent))
    loaded = evaluation.load_policy(trained_agent, device=config.device)
    evaluation.check_fits(loaded, scenario)
    if type(loaded.model) is not type(model):
        raise ConfigError(f"--trained-agent is a {type(loaded.model).__name__} model and this run trains "
                          f"{config.algo.upper()}: train with --algo {type(loaded.model).__name__.lower()}")
    try:
        model.policy.load_state_dict(loaded.model.policy.state_dict())
    except RuntimeError as exc:  # other layer sizes
        raise ConfigError(f"--trained-agent has another network than this run's ({str(exc).splitlines()[0]}); "
                          "give the same `policy = mlp([...])`") from None
    normalize = model.get_vec_normalize_env()
    if normalize is not None and loaded.vec_normalize is not None:
        normalize.obs_rms = loaded.vec_normalize.obs_rms
        normalize.ret_rms = loaded.vec_normalize.ret_rms


def policy_for(space: Any) -> str:
    """SB3's policy for an observation space: a `Dict` (images and state) `MultiInputPolicy`, one
    image `CnnPolicy` (SB3's Nature CNN before the `policy` layers), anything else `MlpPolicy`."""
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import is_image_space

    if isinstance(space, spaces.Dict):
        return "MultiInputPolicy"
    return "CnnPolicy" if is_image_space(space) else "MlpPolicy"


def normalized_observations(space: Any) -> dict[str, Any]:
    """`VecNormalize`'s observation arguments: only the state is normalized, never an image
    (the CNN scales pixels itself)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        keys = [k for k in space.spaces if k == STATE_KEY]
        return {"norm_obs_keys": keys} if keys else {"norm_obs": False}
    return {"norm_obs": len(space.shape) == 1}


def rollout_note(config: TrainConfig) -> str | None:
    """A note when on-policy training will overshoot `n_timesteps` to finish its last rollout."""
    n_steps = config.hyperparams.get("n_steps")
    if config.algo not in ("ppo", "a2c", "trpo"):
        return None
    if n_steps is None:
        n_steps = {"ppo": 2048, "a2c": 5, "trpo": 2048}[config.algo]
    rollout = int(n_steps) * config.total_envs
    if config.n_timesteps % rollout:
        end = -(-config.n_timesteps // rollout) * rollout
        return (f"{config.algo} collects {rollout} timesteps per update (n_steps x n_envs x worlds): training "
                f"ends at {end}, the first whole update past {config.n_timesteps}")
    return None


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = scn_versions()
    for package in ("stable-baselines3", "sb3-contrib", "torch"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _new_model(scenario: Scenario, config: TrainConfig, trained_agent: str | Path | None) -> Any:
    """A model for a run's first timestep: new weights, or the trained agent's; on failure its
    environments are closed and a Ray cluster it started is stopped."""
    try:
        model = build_model(scenario, config)
    except BaseException:
        stop_local_ray(config)
        raise
    if trained_agent is not None:
        try:
            warm_start(model, trained_agent, scenario, config)
        except BaseException:
            model.get_env().close()
            stop_local_ray(config)
            raise
    return model


def start(scenario: Scenario, config: TrainConfig, out: str | Path, *, source: str, command: Sequence[str],
          log: Log, progress: bool | None = None, run_dir: Path | None = None,
          trained_agent: str | Path | None = None) -> Path:
    """Check the settings by building the model, create the run directory (`run_dir`, else a new
    one under `out`), and train. Returns the run directory. Raises `ConfigError` before creating
    anything when the algorithm rejects the settings. `trained_agent` (a run directory or model
    of the same algorithm and network, for a scenario with the same spaces) gives the new model
    its weights and observation statistics to start from: sim-to-sim fine-tuning."""
    model = _new_model(scenario, config, trained_agent)
    try:
        run = rundir.new_run_dir(out, scenario.name, config.seed) if run_dir is None else rundir.make_run_dir(run_dir)
        rundir.write_json(run / rundir.SCENARIO_JSON, compiled_document(scenario))
        rundir.write_json(run / rundir.RUN_JSON, {
            "format": rundir.RUN_FORMAT, "scenario": scenario.name, "source": source, "command": list(command),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seed": config.seed, "hash": scenario_hash(scenario),
            "config": config.to_json(), "versions": versions(), "tensorboard": tensorboard_available(),
            "status": "running",
            # absolute: a resume from another folder finds it (a run killed before its first checkpoint)
            **({"trained_agent": str(Path(trained_agent).absolute())} if trained_agent is not None else {})})
        log(f"run directory: {run}")
        _learn(run, scenario, config, model, log, progress=progress, resumed=False)
    finally:
        model.get_env().close()
        stop_local_ray(config)
    return run


def resume(run_path: str | Path, *, n_timesteps: int | None = None, device: str | None = None, log: Log,
           progress: bool | None = None, ray: str | None = None) -> Path:
    """Continue the run in `run_path` from its newest complete checkpoint (or from the start when
    it was killed before its first); `n_timesteps` raises the run's target; `ray` runs its env
    workers on that Ray cluster (a run that used Ray goes on with the cluster it used unless
    told another)."""
    from stable_baselines3.common.vec_env import VecNormalize

    run = rundir.find_run_dir(run_path)
    meta = rundir.read_run(run)
    scenario = load_compiled(run / rundir.SCENARIO_JSON)
    config = TrainConfig.from_json(meta["config"])
    if n_timesteps is not None:
        if n_timesteps < 1:  # as `resolve` checks a new run's
            raise ConfigError(f"`n_timesteps` must be at least 1, got {n_timesteps}")
        config = replace(config, n_timesteps=n_timesteps)
    if device is not None:
        config = replace(config, device=device)
    if ray is not None:
        config = replace(config, ray=ray)
    rundir.remove_partial(run / rundir.CHECKPOINTS)
    rundir.remove_partial(run)
    found = rundir.checkpoints(run)
    if not found:
        trained_agent = meta.get("trained_agent")  # a fine-tune starts again from the weights it started from
        log(f"{run}: no complete checkpoint; starting the run again from 0 timesteps"
            + (f", from the weights of {trained_agent}" if trained_agent else ""))
        for name in (rundir.PROGRESS_CSV, rundir.EPISODES_CSV, rundir.EVALUATIONS_CSV):
            (run / name).unlink(missing_ok=True)
        model = _new_model(scenario, config, trained_agent or None)
        resumed, before, checkpoint_state = False, 0.0, None
    else:
        ckpt = found[-1]
        # the training wall time the checkpoint had counted (older checkpoints: the run's, if it finished)
        checkpoint_state = json.loads((ckpt.path / rundir.STATE).read_text())
        before = float(checkpoint_state.get("wall_seconds", meta.get("wall_seconds", 0.0)))
        log(f"resuming {run} from its checkpoint at {ckpt.timesteps} timesteps")
        for name, column in ((rundir.PROGRESS_CSV, "time/total_timesteps"), (rundir.EPISODES_CSV, "timesteps"),
                             (rundir.EVALUATIONS_CSV, "timesteps")):
            rundir.truncate_csv(run / name, column, ckpt.timesteps)
        try:
            venv = make_vec_env(scenario, config, config.seed)
        except BaseException:
            stop_local_ray(config)
            raise
        try:
            stats = ckpt.file(rundir.VECNORMALIZE)
            if stats is not None:
                venv = VecNormalize.load(str(stats), venv)
                venv.training = True
            model = algorithm_class(config.algo).load(ckpt.model, env=venv, device=config.device)
            buffer = ckpt.file(rundir.REPLAY_BUFFER)
            if buffer is not None:
                model.load_replay_buffer(buffer)
            rng = ckpt.file(rundir.RNG)
            if rng is not None:
                import pickle

                with open(rng, "rb") as f:
                    rundir.restore_rng(pickle.load(f))
            # Fresh episodes for the workers, a function of the run's seed and the checkpoint alone.
            venv.seed(int(np.random.SeedSequence([config.seed, ckpt.timesteps]).generate_state(1)[0] % 2**31))
        except BaseException:
            venv.close()
            stop_local_ray(config)
            raise
        resumed = True
    meta.update(config=config.to_json(), status="running")
    meta.setdefault("resumed", []).append({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                           "timesteps": int(model.num_timesteps)})
    rundir.write_json(run / rundir.RUN_JSON, meta)
    try:
        _learn(run, scenario, config, model, log, progress=progress, resumed=resumed, wall_seconds_before=before,
               checkpoint_state=checkpoint_state)
    finally:
        model.get_env().close()
        stop_local_ray(config)
    return run


def _worker_died(run: Path, dead: list[tuple[int, int]], config: TrainConfig, timesteps: int) -> WorkerDied:
    """SCN606 for env worker processes that ended mid-run; run.json says "failed" and why."""
    k, exitcode = dead[0]
    done = rundir.checkpoints(run)
    last = f"its checkpoint at {done[-1].timesteps} timesteps" if done else "the start (no checkpoint yet)"
    message = (f"env worker process {k + 1} of {config.n_envs} {exit_status(exitcode)} at {timesteps} "
               "timesteps; the run stopped")
    rundir.write_json(run / rundir.RUN_JSON, {**rundir.read_run(run), "status": "failed", "error": f"SCN606 {message}"})
    then = f"`scn train --resume {run}` goes on from {last}"
    if any(code == -signal.SIGKILL for _, code in dead):
        hint = f"{OOM_KILLER}: train with fewer --n-envs" + (" or --worlds" if config.worlds > 1 else "") + f"; {then}"
    else:
        hint = f"something outside scn ended it, or its simulator aborted the process; {then}"
    return WorkerDied(message, hint, path=str(run))


def _record_workers(run: Path, workers: Any, log: Log) -> None:
    """workers.json: where each Ray env worker runs and the workers lost so far, rewritten at each
    loss; the workers of earlier processes of this run (before a resume) are kept in `before`."""
    path = run / rundir.WORKERS_JSON
    before: list[dict[str, Any]] = []
    if path.is_file():
        old = json.loads(path.read_text())
        before = [*old.get("before", []), {"workers": old.get("workers", []), "lost": old.get("lost", [])}]

    def write() -> None:
        rundir.write_json(path, {"workers": workers.where(), "lost": workers.lost, "before": before})

    def on_replaced(k: int, error: BaseException) -> None:
        write()
        log(f"env worker {k} was lost ({type(error).__name__}); its episodes are dropped, a new worker runs "
            f"on node {workers.where()[k]['node'][:12]}")

    workers.on_replaced = on_replaced
    write()
    nodes = {w["node"] for w in workers.where()}
    log(f"{len(workers.actors)} Ray env workers on {len(nodes)} node{'s' if len(nodes) != 1 else ''}")


def _lost_workers(run: Path) -> int:
    """Workers lost over the whole run, resumes included."""
    path = run / rundir.WORKERS_JSON
    if not path.is_file():
        return 0
    data = json.loads(path.read_text())
    return len(data.get("lost", [])) + sum(len(b.get("lost", [])) for b in data.get("before", []))


def _learn(run: Path, scenario: Scenario, config: TrainConfig, model: Any, log: Log, *, progress: bool | None,
           resumed: bool, wall_seconds_before: float = 0.0, checkpoint_state: dict[str, Any] | None = None) -> None:
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat

    formats: list[Any] = [AppendingCSV(run / rundir.PROGRESS_CSV)]
    if tensorboard_available():
        formats.append(TensorBoardOutputFormat(str(run / rundir.TENSORBOARD)))
    model.set_logger(Logger(str(run), formats))

    failed = sum(r.get("ending", "").startswith(FAILURE_PREFIXES)
                 for r in rundir.read_csv(run / rundir.EPISODES_CSV))
    compiled_terms = [t.name for t in scenario.reward]
    dropped = sum(r.get("ending", "") == DROPPED for r in rundir.read_csv(run / rundir.EPISODES_CSV))
    episodes = EpisodeLog(run, compiled_terms, config.total_envs, failed=failed, dropped=dropped)
    workers = _ray_venv(model)
    if workers is not None:
        _record_workers(run, workers, log)
    display = ProgressDisplay(config.n_timesteps, episodes, rich=progress)
    eval_env = make_env(scenario)
    clock = RunClock(wall_seconds_before)
    keeper = keeper_for(scenario, checkpoint_state)  # ADR ranges and curriculum stage, when anything adapts
    checkpoint = CheckpointCallback(run, config.save_freq, config.keep_checkpoints, config.off_policy,
                                    display.message, clock,
                                    extra=None if keeper is None else lambda: {SCHEDULE_KEY: keeper.state()})
    evaluate = EvalCallback(run, eval_env, config.eval_freq, config.eval_episodes, config.seed + DEFAULT_EVAL_SEED,
                            display.message, clock)
    # Evaluation before the checkpoint at the same timestep: a run killed between the two resumes
    # from the previous checkpoint and evaluates again, so evaluations.csv never misses one. The
    # schedule moves first: the evaluation and the checkpoint see the step's decisions.
    callbacks = [episodes, evaluate, checkpoint, display]
    if keeper is not None:
        schedule = ScheduleCallback(keeper, eval_env, display.message)
        schedule.broadcast(model.get_env())  # before learn's first reset: --resume draws from the restored state
        callbacks.insert(0, schedule)
    remaining = max(config.n_timesteps - model.num_timesteps, 0)
    try:
        if remaining > 0:
            try:
                model.learn(total_timesteps=remaining, callback=CallbackList(callbacks),
                            reset_num_timesteps=not resumed, progress_bar=False)
            except ValueError as exc:
                if "nan" not in str(exc).lower():
                    raise
                done = rundir.checkpoints(run)
                last = f"its last checkpoint is at {done[-1].timesteps} timesteps" if done else "it has no checkpoint"
                raise TrainingDiverged(
                    f"training diverged at {model.num_timesteps} timesteps: the policy's outputs became NaN "
                    "(rewards or observations of enormous size? check the scenario with `scn check`, or set "
                    f"normalize); {last}") from None
        else:
            log(f"the run already has {model.num_timesteps} of {config.n_timesteps} timesteps")
    except PIPE_ERRORS:
        dead = dead_workers(model.get_env())
        if not dead:
            raise  # not a worker that ended: a bug, reported as one
        stop_workers(model.get_env())
        raise _worker_died(run, dead, config, int(model.num_timesteps)) from None
    except KeyboardInterrupt:  # Ctrl-C: say so in run.json, and how to go on
        rundir.write_json(run / rundir.RUN_JSON, {**rundir.read_run(run), "status": "interrupted"})
        done = rundir.checkpoints(run)
        log(f"interrupted at {model.num_timesteps} timesteps; `scn train --resume {run}` goes on from "
            + (f"its checkpoint at {done[-1].timesteps} timesteps" if done else "the start (no checkpoint yet)"))
        raise
    finally:
        # On an error (divergence, Ctrl-C) stable-baselines3 calls no `_on_training_end`: close the
        # callbacks' logs and the progress bar here.
        if display.progress is not None:
            display.progress.stop()
            display.progress = None
        episodes.csv.close()
        evaluate.csv.close()
        eval_env.close()
        for output in formats:
            output.close()
    done = rundir.checkpoints(run)
    if remaining > 0 and (not done or done[-1].timesteps < model.num_timesteps):
        checkpoint.save()
    vec_normalize = model.get_vec_normalize_env()
    rundir.save_snapshot(run / rundir.FINAL, model, vec_normalize, {"timesteps": int(model.num_timesteps)})
    meta = rundir.read_run(run)
    meta.update(status="finished", timesteps=int(model.num_timesteps), failed_episodes=episodes.failed,
                wall_seconds=round(clock.seconds(), 1))
    if workers is not None:
        meta.update(dropped_episodes=episodes.dropped, lost_workers=_lost_workers(run))
    rundir.write_json(run / rundir.RUN_JSON, meta)
    log(f"finished at {model.num_timesteps} timesteps; failed simulations: {episodes.failed} episodes; "
        f"final model: {run / rundir.FINAL / rundir.MODEL}")
