"""`scn sweep`: a grid of training runs over settings and seeds, scheduled by Ray Tune.

    sweeps/<scenario>-<YYYYmmdd-HHMMSS>/
        sweep.json                  the grid, the seeds, the fixed settings, the scenario (compiled)
        <trial>/                    one normal run directory per trial (`rundir`), named by its
                                    grid point and seed: `learning_rate=0.001,seed=0`
        summary.csv, summary.png    a row per trial, and every trial's evaluation curve

A grid key that is a `param` of the scenario changes the scenario (a randomization range, a
mass); any other key is a training setting, as with `--set`. Each trial is a Tune trial of one
CPU: Tune places trials on the cluster's nodes (or on Ray started inside the sweep) and runs as
many at once as there are CPUs. A sweep is resumable: `resume` runs again only the trials whose
run directory is missing or unfinished, resuming those that have a checkpoint.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scenario_dsl.compiler.artifacts import compiled_document
from scenario_dsl.lang.loader import load
from scenario_dsl.lang.model import Scenario
from scenario_dsl.support.plots import pyplot
from scenario_dsl.train import rundir
from scenario_dsl.train.hyperparams import ConfigError, parse_value, resolve

SWEEP_JSON, SUMMARY_CSV, SUMMARY_PNG = "sweep.json", "summary.csv", "summary.png"
MAX_TRIALS = 10_000  # grid points x seeds: counted before any list of them is made
SUMMARY_COLUMNS = ("trial", "status", "timesteps", "final_return", "best_return", "success_rate", "wall_seconds")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Trial:
    """One grid point and seed: its folder name, scenario parameters and training settings."""

    name: str
    seed: int
    params: dict[str, str]
    sets: dict[str, Any]


def split_values(text: str) -> list[str]:
    """`1e-3,3e-4` or `[64,64],[256,256]`: values separated by commas outside brackets."""
    values, depth, current = [], 0, ""
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            values.append(current.strip())
            current = ""
        else:
            current += char
    values.append(current.strip())
    if any(not v for v in values):
        raise ConfigError(f"--grid values are separated by commas, none empty; got {text!r}")
    return values


def parse_grid(entries: Sequence[str]) -> dict[str, list[str]]:
    """`KEY=V1,V2` entries as {key: [values]} (in the order given)."""
    grid: dict[str, list[str]] = {}
    for entry in entries:
        key, eq, raw = entry.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier() or not raw.strip():
            raise ConfigError(f"--grid expects KEY=V1,V2,... (e.g. learning_rate=1e-3,3e-4), got {entry!r}")
        if key in grid:
            raise ConfigError(f"--grid names `{key}` twice")
        grid[key] = split_values(raw)
    return grid


def parse_seeds(text: str) -> list[int]:
    """`0..4` (both ends included), `0,1,2` or `7`."""
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
        else:
            listed = [int(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--seeds expects A..B or a list such as 0,1,2; got {text!r}") from None
    if ".." in text:
        if high - low + 1 > MAX_TRIALS:
            raise ConfigError(f"--seeds {text} names {high - low + 1} seeds; a sweep has at most {MAX_TRIALS} trials")
        seeds = list(range(low, high + 1))
    else:
        seeds = listed
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds needs distinct seeds of 0 or more; got {text!r}")
    return seeds


def trials_of(grid: Mapping[str, list[str]], seeds: Sequence[int], param_names: set[str]) -> list[Trial]:
    """Every combination of the grid's values with every seed, in order."""
    keys = list(grid)
    count = math.prod(len(values) for values in grid.values()) * len(seeds)
    if count > MAX_TRIALS:
        raise ConfigError(f"the grid and seeds make {count} trials; a sweep has at most {MAX_TRIALS}")
    found: list[Trial] = []
    for values in itertools.product(*(grid[k] for k in keys)):
        point = dict(zip(keys, values, strict=True))
        for seed in seeds:
            name = ",".join([*(f"{k}={_slug(v)}" for k, v in point.items()), f"seed={seed}"])
            if any(t.name == name for t in found):  # two values written alike: one run directory for both
                raise ConfigError(f"--grid gives the trial {name} twice: list each value once")
            found.append(Trial(name, seed, {k: v for k, v in point.items() if k in param_names},
                               {k: parse_value(v) for k, v in point.items() if k not in param_names}))
    return found


def _slug(value: str) -> str:
    return "".join(c if c.isalnum() or c in ".-+_" else "_" for c in value.replace(" ", ""))


def create(path: str, *, grid: Mapping[str, list[str]], seeds: Sequence[int], params: Mapping[str, str],
           sets: Sequence[tuple[str, Any]], algo: str | None, n_timesteps: int | None, out: str | Path,
           ray: str | None) -> Path:
    """Check every trial's scenario and settings, then write the sweep directory and sweep.json.
    Raises `ScenarioError` or `ConfigError` before writing anything."""
    base = load(path, params=dict(params))
    trials = trials_of(grid, seeds, set(base.params))
    for trial in trials:  # every trial's scenario loads and its settings resolve, before anything runs
        scenario = load(path, params={**params, **trial.params}) if trial.params else base
        resolve(scenario.train, [*sets, *trial.sets.items()], algo=algo, n_timesteps=n_timesteps, seed=trial.seed)
    stamp = f"{base.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    Path(out).mkdir(parents=True, exist_ok=True)
    for n in range(1000):  # two sweeps of one scenario in the same second
        folder = Path(out) / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
    rundir.write_json(folder / SWEEP_JSON, {
        "format": "scn.sweep/1", "source": str(path), "grid": dict(grid), "seeds": list(seeds),
        "params": dict(params), "sets": [list(s) for s in sets], "algo": algo, "n_timesteps": n_timesteps,
        "ray": ray, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "trials": [{"name": t.name, "seed": t.seed, "params": t.params, "sets": t.sets} for t in trials],
        "scenarios": {t.name: compiled_document(load(path, params={**params, **t.params}))
                      for t in trials if t.params} | {"": compiled_document(base)}})
    return folder


def ray_module() -> Any:
    """`runtime.ray_env`, or `ConfigError` when the ray extra is not installed."""
    try:
        from scenario_dsl.runtime import ray_env  # Ray is an optional extra: imported only for a sweep
    except ImportError as exc:
        raise ConfigError(f"`scn sweep` needs Ray, which is not installed here ({exc}); install it with "
                          "pip install -e '.[ray]'") from None
    return ray_env


def run(folder: Path, *, ray: str | None, log: Log) -> list[dict[str, Any]]:
    """Run the sweep's unfinished trials on Ray Tune; returns the summary rows (also written)."""
    ray_env = ray_module()
    spec = json.loads((folder / SWEEP_JSON).read_text())
    todo = [t for t in spec["trials"] if _status(folder / t["name"]) != "finished"]
    if todo:
        log(f"{len(todo)} of {len(spec['trials'])} trials to run")
        ray_env.connect(None if (ray or spec.get("ray") or "local") == "local" else (ray or spec["ray"]))
        try:
            _tune(folder, spec, todo, log)
        finally:
            ray_env.disconnect()
    else:
        log("every trial has finished")
    rows = summarize(folder, spec)
    write_summary(folder, rows)
    return rows


def _status(run: Path) -> str:
    if not (run / rundir.RUN_JSON).is_file():
        return "missing"
    return str(rundir.read_run(run).get("status", "running"))


def _tune(folder: Path, spec: Mapping[str, Any], todo: list[dict[str, Any]], log: Log) -> None:
    from ray import tune  # the ray extra (connect() above imported Ray already)

    trainable = tune.with_resources(tune.with_parameters(_trial, folder=str(folder.resolve()), spec=dict(spec)),
                                    {"cpu": 1})
    tuner = tune.Tuner(trainable, param_space={"trial": tune.grid_search([t["name"] for t in todo])},
                       run_config=tune.RunConfig(storage_path=str((folder / ".tune").resolve()), name="trials",
                                                 verbose=0),
                       tune_config=tune.TuneConfig(max_concurrent_trials=0, reuse_actors=False))
    # Tune writes its tables to standard output, which is the summary's: they go to a file instead
    console = folder / ".tune" / "console.log"
    console.parent.mkdir(exist_ok=True)
    with console.open("a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        results = tuner.fit()
    for index in range(len(results)):
        result = results[index]
        if result.error is not None:
            log(f"trial {(result.config or {}).get('trial')} failed: {str(result.error).splitlines()[0][:300]}")


def _trial(config: dict[str, Any], folder: str, spec: dict[str, Any]) -> None:
    """One Tune trial: train its run directory (or resume it), then report its summary."""
    import torch  # in the trial's process, as in `scn train`
    from ray import tune  # the ray extra, in a Tune worker

    from scenario_dsl.train import training  # the trial's process trains: the training stage loads there

    torch.set_num_threads(1)  # one CPU per trial
    trial = next(t for t in spec["trials"] if t["name"] == config["trial"])
    if not (Path(folder) / SWEEP_JSON).is_file():
        raise RuntimeError(f"this node ({socket.gethostname()}) does not see the sweep directory {folder}: "
                           "a sweep on several machines needs it on a filesystem every node mounts at the same path")
    run_dir = Path(folder) / trial["name"]
    lines = (run_dir.parent / f".{trial['name']}.log").open("a", encoding="utf-8")

    def log(text: str) -> None:
        lines.write(text + "\n")
        lines.flush()

    try:
        if _status(run_dir) == "running":
            training.resume(run_dir, log=log, progress=False)
        else:
            if run_dir.exists():  # killed before its run.json: nothing in it to keep
                shutil.rmtree(run_dir)
            document = spec["scenarios"].get(trial["name"], spec["scenarios"][""])
            scenario = Scenario.model_validate(document["scenario"])
            config_, _ = resolve(scenario.train, [*map(tuple, spec["sets"]), *trial["sets"].items()],
                                 algo=spec["algo"], n_timesteps=spec["n_timesteps"], seed=trial["seed"])
            config_ = replace(config_, ray=None)  # the trial's envs live in the trial's own process
            training.start(scenario, config_, run_dir.parent, source=spec["source"], log=log, progress=False,
                           command=["scn", "sweep", spec["source"], "#", trial["name"]], run_dir=run_dir)
    finally:
        lines.close()
    row = _row(run_dir, trial["name"])
    tune.report({k: v for k, v in row.items() if isinstance(v, (int, float))})


def _row(run: Path, name: str) -> dict[str, Any]:
    status = _status(run)
    row: dict[str, Any] = {"trial": name, "status": status, "timesteps": "", "final_return": "",
                           "best_return": "", "success_rate": "", "wall_seconds": ""}
    if status == "missing":
        return row
    meta = rundir.read_run(run)
    evaluations = rundir.read_csv(run / rundir.EVALUATIONS_CSV)
    returns = [float(r["mean_return"]) for r in evaluations if r.get("mean_return")]
    if returns:
        row.update(final_return=round(returns[-1], 3), best_return=round(max(returns), 3))
    if evaluations and evaluations[-1].get("success_rate"):
        row["success_rate"] = round(float(evaluations[-1]["success_rate"]), 3)
    row.update(timesteps=meta.get("timesteps", ""), wall_seconds=meta.get("wall_seconds", ""))
    return row


def summarize(folder: Path, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A row per trial: status, timesteps, final and best evaluation return, final success rate,
    training wall time."""
    return [_row(folder / t["name"], t["name"]) for t in spec["trials"]]


def write_summary(folder: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """summary.csv, and summary.png: each trial's evaluation returns against timesteps."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / SUMMARY_CSV).write_text(buffer.getvalue(), encoding="utf-8")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for row in rows:
        evaluations = rundir.read_csv(folder / str(row["trial"]) / rundir.EVALUATIONS_CSV)
        if evaluations:
            ax.plot([float(r["timesteps"]) for r in evaluations], [float(r["mean_return"]) for r in evaluations],
                    marker=".", label=str(row["trial"]))
    ax.set_xlabel("timesteps")
    ax.set_ylabel("evaluation mean return")
    ax.set_title(folder.name)
    if ax.lines:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(folder / SUMMARY_PNG, dpi=100)
    plt.close(fig)


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The summary as an aligned text table."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.4g}"
        return "-" if value == "" else str(value)

    cells = [list(SUMMARY_COLUMNS)] + [[cell(row[c]) for c in SUMMARY_COLUMNS] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(SUMMARY_COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                                    strict=True)))
                     for r in cells)

