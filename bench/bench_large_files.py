"""How fast does `scn lint` read a large file? Prints figures; asserts nothing.

`scn lint` runs in CI on files nobody reviewed, so a large file must not take minutes. Three
shapes of large file, each written to a temporary folder and linted as a subprocess
(interpreter start included, as `time scn lint FILE` measures it):

- `draws`: one `randomize` block of 100,000 draws (about 4 MB),
- `bodies`: 100,000 `body` statements,
- `long_line`: one line of about 1.5 MB (a vector of 220,000 numbers).

    .venv/bin/python -m bench.bench_large_files [--lines 100000] [--runs 3]

`tests/lang/test_text_hazards.py` lints smaller files of the same shapes (`generate(kind, n)`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The head every large file starts from: a small valid scenario (a pendulum).
HEAD = """\
scenario large "A large file for the front end's benchmark"

plant { time_step = 10 ms }
body rod { mass = 1 kg; center_of_mass = [0, 0, 0.5] m; inertia = [0.1, 0.1, 1e-6] }
joint pendulum: revolute(world -> rod, axis = [0, 1, 0]) { actuated { effort_limit = 2 N*m } }
action torque = pendulum.effort in [-2, 2] N*m
observation obs = [cos(pendulum.q), sin(pendulum.q), pendulum.v]
"""

TAIL = """\
reward {
    -(wrap(pendulum.q)^2 + 0.1 * pendulum.v^2) as cost
}
episode { step = 50 ms; time_limit = 10 s }
"""

KINDS = ("draws", "bodies", "long_line")


def generate(kind: str, n: int = 100_000) -> str:
    """The text of one large file: `n` draws, `n` bodies, or a vector of `2.2 n` numbers on one line."""
    if kind == "draws":
        draws = "".join(f"    pendulum.q +~ normal(0, 1e-3)  # {i}\n" for i in range(n))
        return HEAD + "\nrandomize {\n" + draws + "}\n\n" + TAIL
    if kind == "bodies":
        bodies = "".join(f"body b{i} {{ mass = 1 kg; shape = sphere(1 cm) }}\n" for i in range(n))
        return HEAD + bodies + "\n" + TAIL
    if kind == "long_line":
        numbers = ", ".join(f"{i % 1000 / 1000:.3f}" for i in range(n * 11 // 5))
        return HEAD + f"let big = [{numbers}]\nobservation first = big[0]\n\n" + TAIL
    raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def lint_command() -> list[str]:
    script = Path(sys.executable).with_name("scn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scenario_dsl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="draws or bodies per file")
    parser.add_argument("--runs", type=int, default=3, help="lint runs per file (median and best)")
    parser.add_argument("--keep", type=Path, help="write the files to this folder instead of a temporary one")
    args = parser.parse_args()
    command = lint_command()
    print(f"Python {sys.version.split()[0]} on {sys.platform}; `{' '.join(command)} lint FILE`, {args.runs} runs")
    print(f"{'file':<12} {'bytes':>10} {'lines':>8} {'median s':>9} {'best s':>7}  result")
    with tempfile.TemporaryDirectory(prefix="scn-large-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            path = folder / f"{kind}.scn"
            text = generate(kind, args.lines)
            path.write_text(text, encoding="utf-8")
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                proc = subprocess.run([*command, "lint", str(path)], capture_output=True, text=True)
                times.append(time.perf_counter() - start)
            result = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
            print(f"{kind:<12} {path.stat().st_size:>10,} {text.count(chr(10)):>8,} "
                  f"{statistics.median(times):>9.2f} {min(times):>7.2f}  {result}")


if __name__ == "__main__":
    main()
