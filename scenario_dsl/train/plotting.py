"""`scn plot`: a run's learning curve as a PNG (matplotlib, no display needed).

Top panel: the return of each training episode (faint), its moving average, and the periodic
evaluations (mean with a band of one standard deviation) against timesteps. Bottom panel: the
moving average of each reward term's per-episode sum, so a reward's trade-offs are visible. A run
whose randomization adapts gets a last panel: each `adaptive(...)` range (low to high, as a band,
over the middle of its starting range) and the curriculum stage, from progress.csv.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.sampling.adaptive import adaptive_parameters
from scenario_dsl.support.plots import pyplot
from scenario_dsl.train import rundir


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of the last `window` values at each point (fewer at the start)."""
    if len(values) == 0:
        return values
    cumulative = np.cumsum(np.insert(values.astype(float), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return np.asarray((cumulative[ends] - cumulative[ends - counts]) / counts)


def plot_run(run_path: str | Path, out: str | Path | None = None, *, window: int = 20) -> Path:
    """Write the learning curve of the run in `run_path` to `out` (default: `<run>/curve.png`)."""
    plt = pyplot()

    run = rundir.find_run_dir(run_path)
    meta = rundir.read_run(run)
    episodes = rundir.read_csv(run / rundir.EPISODES_CSV)
    evaluations = rundir.read_csv(run / rundir.EVALUATIONS_CSV)
    if not episodes and not evaluations:
        raise rundir.RunDirError("no finished episode or evaluation to plot yet", path=str(run))
    episodes = [r for r in episodes if r.get("return")]
    terms = [c.removeprefix("term_") for c in (episodes[0] if episodes else {}) if c.startswith("term_")]
    schedule = _schedule_rows(run)
    panels = 1 + bool(terms) + bool(schedule)
    fig, axes = plt.subplots(panels, 1, figsize=(8, 2.5 + 2.5 * panels), sharex=True, squeeze=False)
    top = axes[0][0]
    if episodes:
        steps = np.array([float(r["timesteps"]) for r in episodes])
        returns = np.array([float(r["return"]) for r in episodes])
        top.plot(steps, returns, ".", color="tab:blue", alpha=0.15, markersize=3, label="training episode")
        top.plot(steps, moving_average(returns, window), color="tab:blue",
                 label=f"training, mean of {window} episodes")
    if evaluations:
        steps = np.array([float(r["timesteps"]) for r in evaluations])
        mean = np.array([float(r["mean_return"]) for r in evaluations])
        std = np.array([float(r["std_return"]) for r in evaluations])
        top.plot(steps, mean, "o-", color="tab:orange", markersize=3, label="evaluation (deterministic)")
        top.fill_between(steps, mean - std, mean + std, color="tab:orange", alpha=0.2)
    top.set_ylabel("episode return")
    config = meta.get("config", {})
    envs = config.get("n_envs", "?")
    top.set_title(f"{meta.get('scenario', run.name)}: {str(config.get('algo', '?')).upper()}, "
                  f"seed {meta.get('seed', '?')}, {envs} env" + ("" if envs == 1 else "s"))
    top.grid(alpha=0.3)
    top.legend(loc="lower right", fontsize="small")
    if terms:
        bottom = axes[1][0]
        steps = np.array([float(r["timesteps"]) for r in episodes])
        for term in terms:
            values = np.array([float(r[f"term_{term}"] or "nan") for r in episodes])
            bottom.plot(steps, moving_average(values, window), label=term)
        bottom.set_ylabel(f"reward term per episode\n(mean of {window})")
        bottom.grid(alpha=0.3)
        bottom.legend(loc="lower right", fontsize="small")
    if schedule:
        _draw_schedule(axes[-1][0], *schedule, *_declared(run))
    axes[-1][0].set_xlabel("timesteps")
    fig.tight_layout()
    target = Path(out) if out is not None else run / "curve.png"
    # The temporary file keeps the output's suffix: matplotlib picks the format from it.
    tmp = target.with_name(f".{target.name}.tmp{target.suffix or '.png'}")
    try:
        fig.savefig(tmp, dpi=110)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return target


def _schedule_rows(run: Path) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """progress.csv's ADR ranges and curriculum stage by timestep (None: the run has none)."""
    rows = [r for r in rundir.read_csv(run / rundir.PROGRESS_CSV) if r.get("time/total_timesteps")]
    keys = [k for k in (rows[0] if rows else {}) if k.startswith(("adaptive/", "curriculum/stage"))]
    if not keys:
        return None
    rows = [r for r in rows if any(r.get(k) for k in keys)]
    steps = np.array([float(r["time/total_timesteps"]) for r in rows])
    return steps, {k: np.array([float(r[k]) if r.get(k) else np.nan for r in rows]) for k in keys}


def _declared(run: Path) -> tuple[dict[str, float], list[str]]:
    """The middle of each adaptive parameter's declared starting range, and the stages' names,
    from the run's scenario.json (empty when it cannot be read)."""
    from scenario_dsl.compiler.artifacts import load_compiled  # only for a run whose randomization adapts

    try:
        scenario = load_compiled(run / rundir.SCENARIO_JSON)
    except Exception:  # a run written by another version: the logged values alone
        return {}, []
    middles = {p.key: (p.start[0] + p.start[1]) / 2 for p in adaptive_parameters(scenario)}
    stages = [stage.name for stage in scenario.curriculum.stages] if scenario.curriculum is not None else []
    return middles, stages


def _draw_schedule(axis: object, steps: np.ndarray, columns: dict[str, np.ndarray],
                   middles: dict[str, float], stages: list[str]) -> None:
    ax: Any = axis
    names = sorted({k.removeprefix("adaptive/").rsplit("_", 1)[0] for k in columns
                    if k.endswith(("_low", "_high"))})
    for i, name in enumerate(names):
        low, high = columns[f"adaptive/{name}_low"], columns[f"adaptive/{name}_high"]
        # relative to the starting range's middle, so parameters of any scale share the axis
        # (a range that starts at 0, an offset, is drawn as it is)
        middle = abs(middles.get(name, (low[0] + high[0]) / 2 if len(low) else 0.0))
        scale = middle if middle > 0 and np.isfinite(middle) else 1.0
        low, high = low / scale, high / scale
        color = f"C{i}"
        ax.fill_between(steps, low, high, color=color, alpha=0.25, step="post")
        ax.plot(steps, low, color=color, drawstyle="steps-post")
        ax.plot(steps, high, color=color, drawstyle="steps-post",
                label=f"{name}" + ("" if scale == 1.0 else f" / {scale:g}"))
    if "curriculum/stage" in columns:
        stage_axis = ax.twinx() if names else ax
        stage_axis.plot(steps, columns["curriculum/stage"], color="black", linestyle="--", alpha=0.7,
                        drawstyle="steps-post", label="stage")
        stage_axis.set_yticks(range(len(stages)) if stages else stage_axis.get_yticks())
        if stages:
            stage_axis.set_yticklabels([f"{i}: {name}" for i, name in enumerate(stages)])
            stage_axis.set_ylim(-0.3, len(stages) - 0.7)
        stage_axis.set_ylabel("curriculum stage")
        stage_axis.legend(loc="upper left", fontsize="small")
    if names:
        ax.set_ylabel("adaptive ranges\n(over their starting value)")
        ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
