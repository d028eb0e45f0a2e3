"""The flip-up experiment (issue 14, item 4): policies trained (a) at the lecture's physics
without randomization, (b) at the fast physics without it, (c) at the fast physics with it,
(d) as (c), then fine-tuned at the lecture's physics (box_flipup_finetune.scn, from (c)'s run),
(e) as (b), fine-tuned alike (from (b)'s run: what the fine-tune alone buys), (f) as (d), the
fine-tune over randomized physics (box_flipup_finetune_dr.scn); each evaluated on
(i) box_flipup.scn, (ii) box_flipup_dr.scn's distribution and (iii) the held-out physics of
box_flipup_heldout.scn; flip rates with 95% Wilson intervals, per training seed and pooled over
seeds, and two rows compared episode by episode (McNemar's test: the first two shown, or each
`--pairs` X:Y) where their evaluations have `scn eval --json`'s per-episode records, and the
held-out flips per perturbation.

Every step is a `scn` command, printed before it runs; a step whose output exists is skipped, so
the experiment resumes where it stopped (an unfinished training run resumes from its
checkpoint). `--jobs K` runs K steps at once (one core each).

    .venv/bin/python -m bench.flipup_experiment [--out runs/flipup] [--rows a b c d e f] [--seeds 0 1 2]
        [--eval-rows d e] [--episodes 200] [--sets i ii iii] [--jobs 2] [--table-only] [--pairs d:f e:f]

Training uses each file's `train` block (box_flipup_fast.scn's, the recipe: SAC, 200,000 steps,
which box_flipup_adr.scn includes); (a) trains box_flipup.scn with the same recipe, for
`--lecture-timesteps` (default 60,000, about what an hour of the lecture's physics allows on one
core). (d) and (e) start when their seed's (c) and (b) have finished. `--eval-rows` evaluates
only some of the rows trained (default: all).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROOT, SCENARIOS

SCN = [sys.executable, "-m", "scenario_dsl"]
RECIPE = ["--algo", "sac", "--set", "net_arch=[256,256]", "--set", "learning_rate=1e-3", "--set", "train_freq=4"]
ROWS = {
    "a": ("box_flipup.scn", "the lecture's physics, no randomization"),
    "b": ("box_flipup_fast.scn", "fast physics, no randomization"),
    "c": ("box_flipup_adr.scn", "fast physics, adaptive randomization"),
    "d": ("box_flipup_finetune.scn", "fast physics, adaptive randomization, fine-tuned at the lecture's"),
    "e": ("box_flipup_finetune.scn", "fast physics, no randomization, fine-tuned at the lecture's"),
    "f": ("box_flipup_finetune_dr.scn", "as (d), the fine-tune over randomized physics"),
}
# The fine-tuned rows and the row each starts from (`-i RUN` takes that run's best model).
FINE_TUNED_FROM = {"d": "c", "e": "b", "f": "c"}
SETS = {
    "i": ("box_flipup.scn", "the lecture's physics"),
    "ii": ("box_flipup_dr.scn", "box_flipup_dr.scn's distribution"),
    "iii": ("box_flipup_heldout.scn", "held-out physics"),
}


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a success rate."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar(first: list[bool], second: list[bool]) -> tuple[int, int, float]:
    """A paired comparison of two policies over the same episodes (the same seeds draw the same
    physics): the episodes only the first flipped, those only the second did, and the exact
    two-sided p-value of McNemar's test (a binomial test on those discordant episodes)."""
    only_first = sum(a and not b for a, b in zip(first, second, strict=True))
    only_second = sum(b and not a for a, b in zip(first, second, strict=True))
    n = only_first + only_second
    tail = sum(math.comb(n, k) for k in range(min(only_first, only_second) + 1)) / 2**n
    return only_first, only_second, min(1.0, 2 * tail)


def run_dir(out: Path, row: str, seed: int) -> Path | None:
    found = sorted(p.parent for p in (out / f"{row}-seed{seed}").glob("*/*/run.json"))
    return found[0] if found else None


def train_step(out: Path, row: str, seed: int, lecture_timesteps: int) -> list[str] | None:
    """The command that trains (or resumes) one policy; None when it has finished."""
    run = run_dir(out, row, seed)
    if run is not None:
        if json.loads((run / "run.json").read_text()).get("status") == "finished":
            return None
        return [*SCN, "train", "--resume", str(run), "--no-progress"]
    extra: list[str] = []
    if row == "a":  # the fast file's SAC settings; 1 env (box_flipup.scn's block has PPO's 8) and
        # an evaluation every 10,000 steps (each costs 500 steps of the lecture's physics)
        extra = [*RECIPE, "--n-envs", "1", "--set", "eval_freq=10000", "--timesteps", str(lecture_timesteps)]
    if row in FINE_TUNED_FROM:  # once the run it starts from has finished
        start = run_dir(out, FINE_TUNED_FROM[row], seed)
        if start is None or json.loads((start / "run.json").read_text()).get("status") != "finished":
            return None
        extra = ["--trained-agent", str(start)]
    return [
        *SCN,
        "train",
        str(SCENARIOS / ROWS[row][0]),
        "--seed",
        str(seed),
        *extra,
        "--out",
        str(out / f"{row}-seed{seed}"),
        "--no-progress",
    ]


def eval_path(out: Path, row: str, seed: int, evaluation: str) -> Path:
    return out / f"{row}-seed{seed}" / f"eval-{evaluation}.json"


def eval_step(out: Path, row: str, seed: int, evaluation: str, episodes: int) -> list[str] | None:
    if eval_path(out, row, seed, evaluation).is_file():
        return None
    run = run_dir(out, row, seed)
    assert run is not None
    # ADR's "best" model was the best on the ranges of its day: the final one is evaluated
    model = run / "final" / "model.zip" if row in ("c", "d", "e", "f") else run
    return [
        *SCN,
        "eval",
        str(model),
        "--scenario",
        str(SCENARIOS / SETS[evaluation][0]),
        "--episodes",
        str(episodes),
        "--deterministic",
        "--json",
    ]


def execute(command: list[str], output: Path | None) -> None:
    print("$ " + " ".join(command[2:] if command[:2] == SCN else command), flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}", flush=True)
        return
    if output is not None:
        output.write_text(done.stdout)


def table(out: Path, rows: list[str], seeds: list[int], sets: list[str]) -> str:
    """Markdown: a row per training setting, a column per evaluation set; pooled flip rate with
    its interval, then each seed's."""
    lines = ["| trained on | " + " | ".join(f"({e}) {SETS[e][1]}" for e in sets) + " |", "|---|" + "---|" * len(sets)]
    for row in rows:
        cells = []
        for evaluation in sets:
            per_seed = []
            for seed in seeds:
                path = eval_path(out, row, seed, evaluation)
                if path.is_file():
                    result = json.loads(path.read_text())
                    per_seed.append((round(result["success_rate"] * result["episodes"]), result["episodes"]))
            if not per_seed:
                cells.append("-")
                continue
            flips, n = sum(f for f, _ in per_seed), sum(k for _, k in per_seed)
            low, high = wilson(flips, n)
            seeds_text = ", ".join(f"{f / k:.0%}" for f, k in per_seed)
            cells.append(f"{flips / n:.1%} [{low:.1%}, {high:.1%}] (seeds: {seeds_text})")
        lines.append(f"| ({row}) {ROWS[row][1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paired(out: Path, pairs: list[tuple[str, str]], seeds: list[int], sets: list[str]) -> str:
    """Lines comparing two rows episode by episode, for each pair, seed and set where both
    evaluations carry `scn eval --json`'s per-episode records."""
    return "\n".join(line for first, second in pairs if (line := _paired(out, first, second, seeds, sets)))


def _paired(out: Path, first: str, second: str, seeds: list[int], sets: list[str]) -> str:
    lines = []
    for seed in seeds:
        for evaluation in sets:
            paths = [eval_path(out, row, seed, evaluation) for row in (first, second)]
            if not all(p.is_file() for p in paths):
                continue
            records = [json.loads(p.read_text()).get("per_episode") for p in paths]
            if not all(records) or [r["seed"] for r in records[0]] != [r["seed"] for r in records[1]]:
                continue
            a, b, p = mcnemar(*([bool(r["success"]) for r in rs] for rs in records))
            lines.append(f"seed {seed}, ({evaluation}), {len(records[0])} paired episodes: only ({first}) flipped "
                         f"{a}, only ({second}) {b}; McNemar's exact p = {p:.3g}")
    return "\n".join(lines)


HELD_OUT_CASES = ("heavy box, 2.5 kg", "light box, 0.3 kg", "friction 0.25", "stiff, 1e9 Pa", "soft, 1e7 Pa")


def held_out_cases(out: Path, rows: list[str], seeds: list[int]) -> str:
    """Flips on the held-out set (iii) per perturbation (box_flipup_heldout.scn's drawn `case`),
    from the per-episode records; where a record has no draws (written before `scn eval` kept
    them), the held-out env is reset with the episode's seed and its draw read back."""
    env: Any = None
    lines = []
    for row in rows:
        for seed in seeds:
            path = eval_path(out, row, seed, "iii")
            records = json.loads(path.read_text()).get("per_episode") if path.is_file() else None
            if not records:
                continue
            counts = [[0, 0] for _ in HELD_OUT_CASES]
            for record in records:
                draws = record.get("draws") or {}
                if "case" not in draws:
                    if env is None:
                        from scenario_dsl.env import make_env
                        from scenario_dsl.lang.loader import load

                        env = make_env(load(SCENARIOS / SETS["iii"][0]))
                    draws = env.reset(seed=record["seed"])[1]["randomization"]
                count = counts[int(draws["case"])]
                count[0] += 1
                count[1] += bool(record["success"])
            text = ", ".join(f"{name} {flips}/{n}" for name, (n, flips) in zip(HELD_OUT_CASES, counts, strict=True))
            lines.append(f"({row}) seed {seed}, (iii) per perturbation: {text}")
    if env is not None:
        env.close()
    return "\n".join(lines)


def _pair(text: str) -> tuple[str, str]:
    first, _, second = text.partition(":")
    if first not in ROWS or second not in ROWS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected ROW:ROW with rows from {', '.join(ROWS)}")
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "flipup")
    parser.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--eval-rows", nargs="*", choices=list(ROWS))
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--lecture-timesteps", type=int, default=60_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--pairs", nargs="*", metavar="ROW:ROW", type=_pair,
                        help="rows to compare episode by episode, e.g. d:f e:f (default: the first two shown)")
    options = parser.parse_args()
    out: Path = options.out
    out.mkdir(parents=True, exist_ok=True)
    if not options.table_only:
        with ThreadPoolExecutor(options.jobs) as pool:
            for wave in (
                [r for r in options.rows if r not in FINE_TUNED_FROM],
                [r for r in options.rows if r in FINE_TUNED_FROM],
            ):
                trains = [
                    (c, None)
                    for c in (train_step(out, r, s, options.lecture_timesteps) for r in wave for s in options.seeds)
                    if c
                ]
                list(pool.map(lambda job: execute(*job), trains))
            evaluated = options.rows if options.eval_rows is None else options.eval_rows
            evals = [
                (c, eval_path(out, r, s, e))
                for r in evaluated
                for s in options.seeds
                for e in options.sets
                if run_dir(out, r, s) is not None and (c := eval_step(out, r, s, e, options.episodes))
            ]
            list(pool.map(lambda job: execute(*job), evals))
    shown = options.rows if options.eval_rows is None else options.eval_rows
    print(table(out, shown, options.seeds, options.sets))
    pairs = options.pairs or ([(shown[0], shown[1])] if len(shown) >= 2 else [])
    print(paired(out, pairs, options.seeds, options.sets))
    if "iii" in options.sets:
        print(held_out_cases(out, shown, options.seeds))


if __name__ == "__main__":
    main()
