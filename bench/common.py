"""Helpers shared by the benchmarks: interleaved repeats, medians and ratios, scenario variants."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: The clock of in-process benchmarks: this process's CPU time by default. The machines these
#: run on are shared (load averages of 3 to 7 on 2 cores were seen), and wall time then mostly
#: measures the other tenants; CPU time of a single-threaded loop does not. `use_wall_clock()`
#: switches to `time.perf_counter` (`--wall` on each benchmark). Scaling always uses wall time.
_clock: Callable[[], float] = time.process_time


def use_wall_clock(wall: bool = True) -> None:
    global _clock
    _clock = time.perf_counter if wall else time.process_time


def now() -> float:
    """The benchmark clock (see `_clock`), in seconds."""
    return _clock()


def clock_name() -> str:
    return "wall time" if _clock is time.perf_counter else "CPU time of this process"


def worker_counts(text: str | None) -> list[int]:
    """`--workers 1,2`, or by default 1, 2, 4, 8, 16 up to the CPU count (at least 1 and 2)."""
    if text:
        return [int(x) for x in text.split(",")]
    return [n for n in (1, 2, 4, 8, 16) if n <= max(2, os.cpu_count() or 1)]


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Call each run once per repeat, taking turns (a load that comes and goes on a shared
    machine then falls on all of them alike); each run returns its own figure (a rate)."""
    figures: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            figures[name].append(run())
    return figures


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """The median over repeats of numerator / denominator measured in the same repeat."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


def runs_text(values: list[float], digits: int = 1) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def rate(count: int, fn: Callable[[], object]) -> float:
    """`count` / the seconds `fn()` takes."""
    start = now()
    fn()
    return count / (now() - start)


def machine() -> str:
    """One line: CPUs, the 1-minute load average, Python and Drake versions."""
    import platform
    from importlib.metadata import version

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model or platform.machine()}), load average {load:.2f}; "
            f"python {platform.python_version()}, drake {version('drake')}")


def scenario_text(name: str, *, plant: str | None = None, randomize: bool = True) -> str:
    """A bundled scenario's text, its includes written out in place, with another `plant { ... }`
    body, or without its randomize block."""
    text = _with_includes_inlined((SCENARIOS / f"{name}.scn").read_text())
    if plant is not None:
        text, count = re.subn(r"^plant \{.*?\}", "plant { " + plant + " }", text, count=1, flags=re.S | re.M)
        assert count == 1, f"{name}: no plant block"
    if not randomize:
        text, count = re.subn(r"^randomize \{.*?^\}\n", "", text, flags=re.S | re.M)
        assert count >= 1, f"{name}: no randomize block"
    return text


def _with_includes_inlined(text: str) -> str:
    # the plant or randomize block to change may be in an included piece (box_flipup_task.scn)
    return re.sub(r'^include "([^"]+)"$', lambda m: _with_includes_inlined((SCENARIOS / m.group(1)).read_text()),
                  text, flags=re.M)


def load_variant(name: str, **changes: object):  # -> scenario_dsl.lang.model.Scenario
    """`scenario_text(name, **changes)` loaded and validated (models resolve from scenarios/)."""
    from scenario_dsl import loads

    return loads(scenario_text(name, **changes), f"{name}_variant.scn", base_dir=SCENARIOS)  # type: ignore[arg-type]
