"""Run scn's benchmarks, each in a fresh interpreter, one after the other:

    .venv/bin/python -m bench [--quick] [--only overhead lecture ...] [--log FILE]

1 frontend (parse + validate, `scn lint` over 100 files), 2 overhead (env vs raw AdvanceTo),
3 lecture (box_flipup.scn vs manipulation.envs.box_flipup), 4 physics (contact settings table),
5 resets, 6 scaling (SubprocVecEnv and ScenarioVecEnv), 7 reward (compiled vs Python LeafSystem),
randomization (issue 4: `scn sample`'s draws, randomized resets, a contact draw's cost in Drake),
large_files (`scn lint` of a 100,000-line file of draws, of bodies, and of one 1.5 MB line), and
batch (issue 13: N worlds in one diagram against single envs, Gymnasium's and worker processes),
and ray (issue 15: Ray actors against worker processes, and one actor round trip).
`--log` also writes everything printed to FILE (the source of docs/benchmarks.md's figures).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time

from bench.common import ROOT, machine

#: name -> (module, extra arguments for --quick)
BENCHMARKS = {
    "frontend": ("bench.bench_frontend", ["--runs", "5", "--lint-runs", "2"]),
    "overhead": ("bench.bench_overhead", ["--quick"]),
    "lecture": ("bench.bench_env", ["--quick"]),
    "physics": ("bench.bench_physics", ["--quick"]),
    "resets": ("bench.bench_resets", ["--quick"]),
    "scaling": ("bench.bench_scaling", ["--quick"]),
    "reward": ("bench.bench_reward", ["--quick"]),
    "randomization": ("bench.bench_randomization", ["--quick"]),
    "large_files": ("bench.bench_large_files", ["--lines", "20000", "--runs", "1"]),
    "batch": ("bench.bench_batch", ["--quick"]),
    "ray": ("bench.bench_ray", ["--quick"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run scn's benchmarks (issue 6).")
    parser.add_argument("--quick", action="store_true", help="short runs of each (a smoke test; noisier figures)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--log", help="also write the output to this file")
    options = parser.parse_args()
    log = open(options.log, "w") if options.log else None  # open for the whole run

    def out(text: str) -> None:
        print(text, flush=True)
        if log:
            log.write(text + "\n")
            log.flush()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    out(f"# scn benchmarks {datetime.datetime.now().isoformat(timespec='seconds')}, commit "
        f"{commit.stdout.strip() or '?'}{' (quick)' if options.quick else ''}")
    out(f"# {machine()}")
    for name in options.only or BENCHMARKS:
        module, quick = BENCHMARKS[name]
        command = [sys.executable, "-m", module, *(quick if options.quick else [])]
        out(f"\n## {name}: {' '.join(['python', *command[1:]])}")
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert process.stdout is not None
        for line in process.stdout:
            out(line.rstrip("\n"))
        code = process.wait()
        out(f"## {name}: exit {code}, {time.perf_counter() - start:.0f} s")
    if log:
        log.close()


if __name__ == "__main__":
    main()
