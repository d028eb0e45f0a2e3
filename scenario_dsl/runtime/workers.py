"""Worker processes that die under scn: SCN606, a diagnostic instead of a bug report.

`scn train --n-envs K` steps its environments in K worker processes (stable-baselines3's
`SubprocVecEnv`, or `BatchProcesses` with `--worlds`), and `scn eval --n-envs K` shares its
episodes among K. When the operating system ends one (most often the kernel's out-of-memory
killer, with SIGKILL), the parent meets an end of file on the worker's pipe or a
`BrokenProcessPool`: not a bug in scn and not something a traceback explains. `dead_workers` finds
which worker ended and how; `stop_workers` ends the others and marks the vector env closed (its
own `close` would wait for the dead worker's answer, or fail writing to its pipe).
"""

from __future__ import annotations

import signal
from multiprocessing.connection import wait
from typing import Any

from scenario_dsl.lang.diagnostics import ScnError

# The errors reading from or writing to the pipe of a worker that has ended.
PIPE_ERRORS = (EOFError, BrokenPipeError, ConnectionResetError)


class WorkerDied(ScnError, RuntimeError):
    """A worker process of a training or evaluation ended without an answer: SCN606."""

    code = "SCN606"


# Why a worker ends with SIGKILL, most often: said in SCN606's hints.
OOM_KILLER = "SIGKILL is how the kernel's out-of-memory killer ends a process (`dmesg` names it)"


def exit_status(exitcode: int) -> str:
    """How a process ended, in words: multiprocessing's `exitcode` is -N for signal N."""
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {-exitcode} ({name})"
    return f"exited with status {exitcode}"


def dead_workers(venv: Any, wait_seconds: float = 5.0) -> list[tuple[int, int]]:
    """(index, exit code) of each worker process of the vector env `venv` (under its wrappers)
    that has ended; empty for an env without worker processes, or when none ends within
    `wait_seconds`. The wait: a pipe can report the end before the process's exit code is known
    (the forkserver reaps its children and passes the code on, in its own time)."""
    processes = getattr(getattr(venv, "unwrapped", venv), "processes", None) or []
    if processes:
        wait([process.sentinel for process in processes], timeout=wait_seconds)
    return [(k, code) for k, process in enumerate(processes) if (code := process.exitcode) is not None]


def stop_workers(venv: Any) -> None:
    """End the worker processes of `venv` that are left after one died, and mark it closed, so
    that the `close` of its wrappers (and the caller's `finally`) neither waits nor raises."""
    inner = getattr(venv, "unwrapped", venv)
    for process in getattr(inner, "processes", None) or []:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
    for remote in getattr(inner, "remotes", None) or []:
        remote.close()
    inner.closed = True  # SubprocVecEnv's flag, and BatchProcesses': `close` returns at once
