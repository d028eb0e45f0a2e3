"""How fast is the front end? Prints figures; asserts nothing.

1. In-process, per scenario file in `scenarios/`: the median over N runs of parsing alone
   (`loader.parse_source`) and of the whole front end (`loader.analyze_file`: parse, includes,
   validate), after one warm-up call that builds the parser.
2. `scn lint` as a subprocess over 100 scenario files (the bundled ones copied into a temporary
   folder until there are 100), interpreter start included, pinned to one core with
   `taskset -c 0` when taskset exists: the median and best wall time of R runs.

    .venv/bin/python bench/bench_frontend.py [--runs 20] [--lint-runs 5] [--files 100]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_in_process(files: list[Path], runs: int) -> None:
    start = time.perf_counter()
    from scenario_dsl.lang.loader import analyze_file, parse_source, read_source

    imported = time.perf_counter() - start
    start = time.perf_counter()
    analyze_file(files[0])  # builds the parser and loads what validation needs
    first = time.perf_counter() - start
    print(f"import scenario_dsl.lang.loader: {imported * 1e3:.0f} ms; first analyze_file (builds the parser): "
          f"{first * 1e3:.0f} ms")
    print(f"\nin-process, median of {runs} runs")
    print(f"{'file':<28} {'bytes':>7} {'parse ms':>9} {'parse+validate ms':>18}  diagnostics")
    totals = [0.0, 0.0]
    for path in files:
        source, _ = read_source(path)
        assert source is not None, path
        parse = median_seconds(functools.partial(parse_source, source), runs)
        full = median_seconds(functools.partial(analyze_file, path), runs)
        totals[0] += parse
        totals[1] += full
        count = len(analyze_file(path).diagnostics)
        print(f"{path.name:<28} {path.stat().st_size:>7} {parse * 1e3:>9.2f} {full * 1e3:>18.2f}  {count}")
    print(f"{'all ' + str(len(files)) + ' files':<28} {'':>7} {totals[0] * 1e3:>9.2f} {totals[1] * 1e3:>18.2f}")


def lint_command() -> list[str]:
    script = Path(sys.executable).with_name("scn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scenario_dsl"]


def bench_subprocess(scenarios: Path, count: int, runs: int) -> None:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory(prefix="scn-bench-") as tmp:
        root = Path(tmp)
        (root / "scn.toml").write_text("")  # the project folder for includes
        copies = 0
        while len(list(root.rglob("*.scn"))) < count:
            shutil.copytree(scenarios, root / f"copy{copies:03d}")  # models/ and includes come along
            copies += 1
        extra = sorted(root.rglob("*.scn"))[count:]
        for path in extra:
            path.unlink()
        n = len(list(root.rglob("*.scn")))
        command = [*pin, *lint_command()]
        startup = median_seconds(lambda: subprocess.run([*command, "--version"], capture_output=True), runs)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run([*command, "lint", str(root)], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
        shown = " ".join(command)
        print(f"\nsubprocess: `{shown} lint DIR` over {n} files, {runs} runs"
              f"{' (one core)' if pin else ' (taskset not found: all cores)'}")
        print(f"exit code {proc.returncode}; {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
        print(f"wall time: median {statistics.median(times):.2f} s, best {min(times):.2f} s, "
              f"{statistics.median(times) / n * 1e3:.1f} ms per file")
        print(f"`{shown} --version` (interpreter start and imports): median {startup * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=Path, default=REPO / "scenarios")
    parser.add_argument("--runs", type=int, default=20, help="in-process runs per file (median)")
    parser.add_argument("--lint-runs", type=int, default=5, help="subprocess runs (median)")
    parser.add_argument("--files", type=int, default=100, help="files for the subprocess run")
    args = parser.parse_args()
    files = sorted(args.scenarios.glob("*.scn"))
    if not files:
        sys.exit(f"no .scn files in {args.scenarios}")
    print(f"Python {sys.version.split()[0]} on {sys.platform}; {len(files)} scenario files in {args.scenarios}")
    bench_in_process(files, args.runs)
    bench_subprocess(args.scenarios, args.files, args.lint_runs)


if __name__ == "__main__":
    main()
