"""`scn train`, `scn sweep`, `scn eval`, `scn plot`: training runs and grids of them, evaluating their
policies, their curves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scenario_dsl.cli.app import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PARAM_ARG,
    PROG,
    Streams,
    arg,
    at_least,
    build_scenario,
    command,
    compile_failure,
)
from scenario_dsl.lang.catalogue import ALGORITHMS, CAMERA_VIEWS
from scenario_dsl.lang.diagnostics import ScnError


@command(
    "train", "train an agent on a scenario (stable-baselines3 / sb3-contrib) into a run directory",
    arg("path", nargs="?", metavar="FILE", help="a .scn file, or a JSON file written by `scn compile`"),
    arg("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint (no FILE needed)"),
    arg("--trained-agent", "-i", metavar="RUN_OR_MODEL", help="start a new run from this trained policy's "
        "weights (same algorithm, network and spaces): fine-tune it on FILE, e.g. at other physics"),
    arg("--algo", choices=list(ALGORITHMS),
        help="the algorithm (default: the train block's, else ppo)"),
    arg("--timesteps", type=int, metavar="N", help="timesteps to train (with --resume: the new total)"),
    arg("--n-envs", type=int, metavar="K", help="environments in parallel (subprocesses when K > 1)"),
    arg("--worlds", type=int, metavar="N", help="copies of the scenario stepped together in one simulator, "
        "in each of the K processes (default: the train block's, else 1)"),
    arg("--seed", type=at_least(0), metavar="S", help="the run's seed (default: the train block's, else random)"),
    PARAM_ARG,
    arg("--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a hyperparameter (repeatable), e.g. --set learning_rate=1e-3 --set net_arch=[256,256]"),
    arg("--out", default="runs", metavar="DIR", help="where run directories go (default: runs/)"),
    arg("--device", choices=["cpu", "cuda", "auto"], help="torch device (default: auto)"),
    arg("--threads", type=at_least(1), metavar="N", help="torch threads in the training process (default: 1)"),
    arg("--ray", nargs="?", const="local", metavar="ADDRESS",
        help="run the K env workers as Ray actors: on the cluster at ADDRESS (HOST:PORT, or auto), or, "
             "without it, on Ray started inside the run (needs the ray extra; docs/distributed.md)"),
    arg("--progress", action=argparse.BooleanOptionalAction, default=None,
        help="a live progress bar (default: on a terminal; otherwise a status line every 30 s)"),
)
def train(args: argparse.Namespace, io: Streams) -> int:
    """Settings errors (unknown or mistyped hyperparameters, an algorithm that cannot act in the
    action space: SCN601) exit 2 before any training; a scenario with errors exits 1. The errors
    raised here are `ScnError`s that `main` reports."""
    from scenario_dsl.train import training
    from scenario_dsl.train.hyperparams import ConfigError, check_spaces, parse_set, resolve

    def log(text: str) -> None:
        io.err.write(text + "\n")
        io.err.flush()

    import torch

    # One thread unless asked: on shared cores two torch threads made SAC 10x slower (docs/results.md).
    torch.set_num_threads(max(1, args.threads or 1))
    if args.resume:
        given = (("FILE", args.path), ("--algo", args.algo), ("--n-envs", args.n_envs), ("--worlds", args.worlds),
                 ("--seed", args.seed), ("--param", args.param), ("--set", args.set),
                 ("--trained-agent", args.trained_agent))
        changed = [flag for flag, value in given if value]
        if changed:
            raise ConfigError(f"--resume continues a run with its saved settings; {', '.join(changed)} "
                              "cannot change (only --timesteps, --device, --threads, --ray)")
        run = training.resume(args.resume, n_timesteps=args.timesteps, device=args.device, log=log,
                              progress=args.progress, ray=args.ray)
        io.out.write(f"{run}\n")
        return EXIT_OK
    if not args.path:
        raise ConfigError("a scenario FILE (or --resume RUN_DIR) is required")
    sets = [parse_set(text) for text in args.set]
    scenario = build_scenario(args.path, dict(args.param), io)
    if scenario is None:
        return EXIT_PROBLEMS
    source = "the train block" if not args.path.endswith(".json") else "the compiled train block"
    config, notes = resolve(scenario.train, sets, algo=args.algo, n_timesteps=args.timesteps,
                            n_envs=args.n_envs, worlds=args.worlds, seed=args.seed, device=args.device or "auto",
                            ray=args.ray, source=source)
    if args.ray is not None and args.ray.endswith((".scn", ".json")):  # `--ray FILE`: argparse took the file
        raise ConfigError(f"--ray took {args.ray} as the cluster's address", "put --ray after the file, or write "
                          "--ray=ADDRESS")
    for note in notes + [n for n in (training.rollout_note(config),) if n]:
        log(f"note: {note}")
    from scenario_dsl.runtime.env import make_env

    try:  # build one env here: compile errors come with their spans, before any worker starts
        env = make_env(scenario)
    except Exception as exc:
        return compile_failure(exc, io, args.path)
    try:
        check_spaces(config, env.action_space)
        env.reset(seed=config.seed)  # a `require` that always rejects fails here (SCN411), with its place
        # a rare draw Drake refuses fails here too, with its place, not later in a worker
        env.compiled.randomizer.check_domains(env.compiled.diagram, seed=config.seed)
    finally:
        env.close()
    run = training.start(scenario, config, args.out, source=args.path, command=sys.argv, log=log,
                         progress=args.progress, trained_agent=args.trained_agent)
    io.out.write(f"{run}\n")
    return EXIT_OK


@command(
    "sweep", "train a grid of settings x seeds on Ray Tune, each trial a run directory; a summary table and plot",
    arg("path", nargs="?", metavar="FILE", help="a .scn file"),
    arg("--grid", action="append", default=[], metavar="KEY=V1,V2",
        help="values to try (repeatable; the grid is every combination): a `param` of the scenario, else a "
             "training setting as for --set, e.g. --grid learning_rate=1e-3,3e-4"),
    arg("--seeds", default="0", metavar="A..B", help="training seeds of each grid point: 0..4, or 0,1,2 "
        "(default: 0)"),
    arg("--resume", metavar="SWEEP_DIR", help="run the trials of a sweep that have not finished"),
    arg("--algo", choices=list(ALGORITHMS), help="the algorithm (default: the train block's, else ppo)"),
    arg("--timesteps", type=int, metavar="N", help="timesteps per trial"),
    PARAM_ARG,
    arg("--set", action="append", default=[], metavar="KEY=VALUE", help="a hyperparameter for every trial "
        "(repeatable)"),
    arg("--out", default="sweeps", metavar="DIR", help="where sweep directories go (default: sweeps/)"),
    arg("--ray", metavar="ADDRESS", help="the Ray cluster that runs the trials (HOST:PORT or auto; default: Ray "
        "started inside the sweep)"),
)
def sweep(args: argparse.Namespace, io: Streams) -> int:
    """Every trial's scenario and settings are checked before any trial runs (SCN601 exits 2,
    scenario errors 1); a trial that fails is reported in the summary, not fatal to the others."""
    from scenario_dsl.train import sweep as sweeps
    from scenario_dsl.train.hyperparams import ConfigError, parse_set

    def log(text: str) -> None:
        io.err.write(text + "\n")
        io.err.flush()

    if args.resume:
        if args.path or args.grid or args.set or args.param or args.algo or args.timesteps:
            raise ConfigError("--resume runs a sweep as it was created: give only the sweep directory (and --ray)")
        folder = Path(args.resume)
        if not (folder / sweeps.SWEEP_JSON).is_file():
            raise ConfigError(f"{folder} is not a sweep directory (no {sweeps.SWEEP_JSON})")
    else:
        if not args.path:
            raise ConfigError("a scenario FILE (or --resume SWEEP_DIR) is required")
        if not args.grid:
            raise ConfigError("--grid KEY=V1,V2 is required: the settings to sweep over")
        if build_scenario(args.path, dict(args.param), io) is None:  # its diagnostics, as `scn train` shows them
            return EXIT_PROBLEMS
        sweeps.ray_module()  # the ray extra, before a sweep directory is made
        folder = sweeps.create(args.path, grid=sweeps.parse_grid(args.grid), seeds=sweeps.parse_seeds(args.seeds),
                               params=dict(args.param), sets=[parse_set(t) for t in args.set], algo=args.algo,
                               n_timesteps=args.timesteps, out=args.out, ray=args.ray)
        log(f"sweep directory: {folder}")
    rows = sweeps.run(folder, ray=args.ray, log=log)
    io.out.write(sweeps.table(rows) + "\n")
    io.out.write(f"{folder / sweeps.SUMMARY_CSV}\n")
    failed = [r for r in rows if r["status"] != "finished"]
    return EXIT_OK if not failed else EXIT_PROBLEMS


@command(
    "eval", "evaluate a trained agent: returns, episode lengths, success rate, reward terms",
    arg("path", metavar="RUN_DIR_OR_MODEL", help="a run directory (its best model), a model .zip inside one, or "
        "a policy written by `scn export` (with --scenario)"),
    arg("--episodes", type=at_least(1), default=10, metavar="N", help="episodes to run (default: 10)"),
    arg("--deterministic", action="store_true", help="act with the policy's mean action (default: sample)"),
    arg("--seed", type=at_least(0), default=0, metavar="S", help="episode i is reset with seed S + i (default: 0)"),
    arg("--n-envs", type=at_least(1), default=1, metavar="K", help="run the episodes in K processes at once, one "
        "core each: the same episodes and results as one process (default: 1)"),
    arg("--record", metavar="OUT.html", help="also write one episode as a self-contained Meshcat HTML animation"),
    arg("--video", metavar="OUT.gif", help="also write one episode as a GIF (or MP4 with imageio-ffmpeg) "
        "from the camera"),
    arg("--camera", default="auto", metavar="VIEW_OR_NAME",
        help="the --video camera: a view framed on the scene, " + ", ".join(CAMERA_VIEWS) + " (auto: square on to "
             "the plane the joints move in, else along the thinnest axis), or the name of one of the scenario's "
             "cameras (default: auto)"),
    arg("--scenario", metavar="FILE", help="evaluate in this scenario instead of the run's own (the same "
        "observations and action; other physics or draws), e.g. a held-out variant"),
    PARAM_ARG,
    arg("--format", choices=["human", "json"], default="human", help="output format (default: human)"),
    arg("--json", action="store_const", const="json", dest="format", help="the same as --format json"),
    arg("--device", choices=["cpu", "cuda", "auto"], default="auto", help="torch device (default: auto)"),
)
def eval_(args: argparse.Namespace, io: Streams) -> int:
    """Loads pickles: only run directories you trust (your own)."""
    import json

    from scenario_dsl.train import evaluation
    from scenario_dsl.train.export import exported_info

    if args.param and not args.scenario:  # a usage error, as argparse reports one
        io.err.write(f"{PROG} eval: error: --param overrides a param of the --scenario FILE; add --scenario "
                     "(e.g. the scenario the policy was trained on)\n")
        return EXIT_USAGE
    import torch

    torch.set_num_threads(1)  # as `scn train` by default: a policy's forward pass is faster on one thread here
    scenario = None
    if args.scenario:
        scenario = build_scenario(args.scenario, dict(args.param), io)
        if scenario is None:
            return EXIT_PROBLEMS
    if scenario is not None and exported_info(Path(args.path)) is not None:  # `scn export`'s zip: no pickles
        loaded = evaluation.load_exported_policy(args.path, scenario, device=args.device)
    else:
        loaded = evaluation.load_policy(args.path, device=args.device)  # SCN602/SCN009 reach `main`
        if scenario is not None:
            evaluation.check_fits(loaded, scenario)  # SCN604 reaches `main`
    results = evaluation.evaluate(loaded, args.episodes, args.seed, args.deterministic, scenario,
                                  args.n_envs)
    summary_ = evaluation.summarize(results)
    if args.format == "json":
        io.out.write(json.dumps({"model": str(loaded.model_path), "scenario": args.scenario or "the run's",
                                 "params": dict(args.param),
                                 "deterministic": args.deterministic, "seed": args.seed, **summary_.to_json(),
                                 "per_episode": [r.to_json() for r in results]},
                                indent=2) + "\n")
    else:
        io.out.write(evaluation.format_summary(summary_, model=str(loaded.model_path),
                                               deterministic=args.deterministic))
    try:
        if args.record:
            evaluation.record_html(loaded, Path(args.record), args.seed, args.deterministic, scenario)
            io.err.write(f"wrote {args.record} (open it in a browser and press play under Animation)\n")
        if args.video:
            evaluation.record_video(loaded, Path(args.video), args.seed, args.deterministic, args.camera,
                                    scenario)
            io.err.write(f"wrote {args.video}\n")
    except ScnError:
        raise
    except (ValueError, OSError) as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    return EXIT_OK


@command(
    "export", "write a run's policy as one small stable-baselines3 zip, to ship and evaluate (scn eval "
    "POLICY.zip --scenario FILE)",
    arg("path", metavar="RUN_DIR_OR_MODEL", help="a run directory (its best model) or a model .zip inside one"),
    arg("--output", "-o", required=True, metavar="OUT.zip", help="the file to write"),
)
def export(args: argparse.Namespace, io: Streams) -> int:
    """The zip is for acting only: optimizer states emptied, critics zeroed (train.export)."""
    from scenario_dsl.train import evaluation
    from scenario_dsl.train.export import export_policy

    loaded = evaluation.load_policy(args.path)  # SCN602 reaches `main` (an exported zip included)
    meta = evaluation.rundir.read_run(loaded.run)
    out = Path(args.output)
    if not out.parent.is_dir():
        raise evaluation.rundir.RunDirError("no such folder for the exported policy", path=str(out.parent))
    size = export_policy(loaded.model, loaded.vec_normalize, config=meta["config"], scenario=loaded.scenario.name,
                         source=str(loaded.model_path), out=out, action_bounds=loaded.action_bounds)
    io.out.write(f"{args.output}\n")
    io.err.write(f"wrote {args.output} ({size / 1024:.0f} KiB) from {loaded.model_path}\n")
    return EXIT_OK


@command(
    "plot", "plot a run's learning curve (return vs timesteps, reward terms) as a PNG",
    arg("path", metavar="RUN_DIR", help="a run directory of `scn train`"),
    arg("--output", "-o", metavar="OUT.png", help="where to write the PNG (default: RUN_DIR/curve.png)"),
    arg("--window", type=at_least(1), default=20, metavar="N", help="episodes in the moving average (default: 20)"),
)
def plot(args: argparse.Namespace, io: Streams) -> int:
    from scenario_dsl.train.plotting import plot_run

    try:
        out = plot_run(args.path, args.output, window=args.window)
    except ScnError:  # not a run directory (SCN602): `main` reports it
        raise
    except OSError as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except ValueError as exc:  # an image format matplotlib does not know
        io.err.write(f"{PROG}: error: cannot write {args.output}: {exc}\n")
        return EXIT_USAGE
    io.out.write(f"{out}\n")
    return EXIT_OK



def _range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO:HI (two numbers), got {text!r}") from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"expected LO < HI, got {text!r}")
    return low, high


@command(
    "landscape", "the return over one parameter, raw and randomized-smoothed, with zero- and first-order "
    "gradient estimates (docs/landscape.md)",
    arg("path", metavar="FILE", help="a .scn file"),
    arg("model", nargs="?", metavar="MODEL", help="a run directory or model that acts (default: the neutral action)"),
    arg("--param", dest="name", required=True, metavar="NAME", help="the scenario `param` to vary (a number)"),
    arg("--range", dest="span", type=_range, required=True, metavar="LO:HI",
        help="the values of NAME, in SI units; a negative start needs `=`: --range=-1:1"),
    arg("--n", type=at_least(2), default=21, metavar="K", help="grid points (default: 21)"),
    arg("--samples", type=at_least(2), default=32, metavar="M", help="smoothing samples per point (default: 32)"),
    arg("--sigma", type=float, metavar="S", help="the smoothing's standard deviation (default: (HI - LO) / 10)"),
    arg("--seed", type=at_least(0), default=0, metavar="S", help="the episodes' seed and the samples' (default: 0)"),
    arg("--output", "-o", default="landscape.png", metavar="OUT.png", help="the plot (default: landscape.png)"),
    arg("--csv", metavar="OUT.csv", help="the numbers (default: the plot's name with .csv)"),
)
def landscape(args: argparse.Namespace, io: Streams) -> int:
    """Each point compiles the scenario with NAME set: a `--param` it cannot take is reported as
    lint reports it (exit 1)."""
    import numpy as np

    from scenario_dsl.runtime import gradient
    from scenario_dsl.train import landscape as ls

    scenario = build_scenario(args.path, {}, io)
    if scenario is None:
        return EXIT_PROBLEMS
    value = scenario.params.get(args.name)
    numbers = [name for name, v in scenario.params.items() if not isinstance(v, list)]
    if value is None or isinstance(value, list):
        what = "a vector `param`" if isinstance(value, list) else "not a number `param`"
        io.err.write(f"{PROG}: error: `{args.name}` is {what} of {args.path}"
                     + (f" (its number params: {', '.join(numbers)})\n" if numbers else "\n"))
        return EXIT_USAGE
    policy = None
    if args.model:
        from scenario_dsl.train import evaluation

        loaded = evaluation.load_policy(args.model, device="cpu")
        evaluation.check_fits(loaded, scenario)
        policy = evaluation.make_policy(loaded.model, loaded.vec_normalize, deterministic=True)
    low, high = args.span
    sigma = args.sigma if args.sigma is not None else (high - low) / 10
    if not sigma > 0:
        io.err.write(f"{PROG}: error: --sigma must be positive\n")
        return EXIT_USAGE
    at: list[float] = []

    def f(x: float) -> float:
        at[:] = [x]
        return ls.episode_return(args.path, args.name, x, seed=args.seed, policy=policy)

    refusals: list[str] = []
    refused_everywhere: list[bool] = []

    def derivative(x: float) -> tuple[float, float] | None:
        """f and f' through AutoDiffXd, while the scenario allows (not with a policy: it is torch's)."""
        if policy is not None or refused_everywhere:
            return None
        at[:] = [x]
        try:
            return gradient.return_and_slope(args.path, args.name, x, seed=args.seed)
        except gradient.NotDifferentiable as exc:
            refusals.append(f"{exc} (at {args.name} = {x:.6g})" if not exc.everywhere else str(exc))
            if exc.everywhere:
                refused_everywhere.append(True)
        except Exception as exc:  # pydrake's own (a binding, a conversion): the plain episodes may still run
            refusals.append(f"AutoDiffXd failed at {args.name} = {x:.6g}: {type(exc).__name__}: "
                            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
            refused_everywhere.append(True)
        return None

    try:
        result = ls.landscape(f, args.name, np.linspace(low, high, args.n).tolist(), sigma=sigma,
                              samples=args.samples, seed=args.seed, derivative=derivative)
    except Exception as exc:  # a failed build or episode at some value: which one, then its diagnostics
        io.err.write(f"{PROG}: landscape: with {args.name} = {at[0]:.6g} (the grid {low:g}..{high:g} and its "
                     f"samples x + {sigma:g} * N(0, 1), which reach beyond it), the scenario fails:\n")
        if isinstance(exc, ScnError):
            raise
        return compile_failure(exc, io, args.path)
    out = Path(args.output)
    table = Path(args.csv) if args.csv else out.with_suffix(".csv")
    ls.write_csv(result, table)
    ls.plot(result, out, f"{scenario.name}: return over {args.name}")
    why = "a policy acts (torch's network is not in the diagram)" if policy is not None else \
        _reasons(refusals)
    io.err.write(f"{PROG}: landscape: first-order estimate by {result.first_order}{f': {why}' if why else ''}\n")
    io.out.write(f"{out}\n{table}\n")
    return EXIT_OK


def _reasons(refusals: list[str], shown: int = 3) -> str:
    unique = list(dict.fromkeys(refusals))
    more = f"; and {len(unique) - shown} more" if len(unique) > shown else ""
    return "; ".join(unique[:shown]) + more
