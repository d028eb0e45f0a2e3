"""The run directory of `scn train`: its layout, atomic writes, and checkpoints.

    runs/<scenario>/<YYYYmmdd-HHMMSS>-<seed>/
        run.json          what was run: config (effective hyperparameters), seed, versions, status
        scenario.json     the resolved scenario (`scn compile`'s format): resuming needs no .scn file
        progress.csv      stable-baselines3's training log, one row per update
        episodes.csv      one row per finished training episode: return, length, reward terms, ending
        evaluations.csv   one row per periodic evaluation on a separately seeded env
        workers.json      with Ray (`--ray`): where each env worker ran (node, host, pid), and its losses
        checkpoints/ckpt-<timesteps>/   model.zip, replay_buffer.pkl, vecnormalize.pkl, rng.pkl, state.json
        best -> best-<timesteps>/       the best evaluated model (a symbolic link, swapped atomically)
        final/            the model at the end of training
        tb/               TensorBoard logs (only when tensorboard is installed)

A checkpoint is written into a hidden temporary folder, each file flushed to disk, `state.json`
last, and then renamed into place: a folder named `ckpt-*` is always complete, whenever the
process was killed. `model.zip` and the `.pkl` files are pickles: a run directory is a trusted
artifact, as trusted as code; never load one you did not make.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pickle
import random
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.support.files import umask, write_text_atomically

RUN_FORMAT = "scn.run/1"
RUN_JSON, SCENARIO_JSON = "run.json", "scenario.json"
PROGRESS_CSV, EPISODES_CSV, EVALUATIONS_CSV = "progress.csv", "episodes.csv", "evaluations.csv"
WORKERS_JSON = "workers.json"
CHECKPOINTS, BEST, FINAL, TENSORBOARD = "checkpoints", "best", "final", "tb"
MODEL, REPLAY_BUFFER, VECNORMALIZE, RNG, STATE = (
    "model.zip", "replay_buffer.pkl", "vecnormalize.pkl", "rng.pkl", "state.json")


class RunDirError(ScnError, ValueError):
    """A path is not a run directory (or a model in one) that can be used (SCN602, exit 2)."""

    code = "SCN602"
    exit_code = 2


def new_run_dir(out: str | Path, scenario: str, seed: int) -> Path:
    """Create `out/<scenario>/<timestamp>-<seed>/` (with a suffix when that exists already)."""
    base = Path(out) / scenario
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base / (f"{stamp}-{seed}" if n == 0 else f"{stamp}-{seed}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RunDirError(f"cannot create a run directory under {base}")


def make_run_dir(path: Path) -> Path:
    """Create the run directory `path` (a sweep's trial); an empty one may exist already."""
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise RunDirError("the folder for a new run is not empty", path=str(path))
    return path


def find_run_dir(path: str | Path) -> Path:
    """The run directory `path` is, or lies in (a model file inside one)."""
    p = Path(path).resolve()
    for candidate in (p, *p.parents):
        if (candidate / RUN_JSON).is_file():
            return candidate
    raise RunDirError(f"not a run directory of `scn train` (no {RUN_JSON} in it or above it)", path=str(path))


def read_run(run: Path) -> dict[str, Any]:
    try:
        data = json.loads((run / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"cannot read it ({exc})", path=str(run / RUN_JSON)) from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise RunDirError(f"not a run description (expected \"format\": \"{RUN_FORMAT}\")", path=str(run / RUN_JSON))
    return data


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file, flush, rename)."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write text atomically (`support.files.write_text_atomically`)."""
    write_text_atomically(path, text)


# ---- checkpoints -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint folder and the timestep count it was taken at."""

    path: Path
    timesteps: int

    @property
    def model(self) -> Path:
        return self.path / MODEL

    def file(self, name: str) -> Path | None:
        p = self.path / name
        return p if p.is_file() else None


def save_snapshot(folder: Path, model: Any, vec_normalize: Any | None, state: dict[str, Any], *,
                  replay_buffer: bool = False) -> None:
    """Write the model (and replay buffer, normalization statistics, random state) into `folder`,
    atomically: a temporary sibling folder renamed into place once every file is on disk."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{folder.name}-", dir=folder.parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it private; give it a plain folder's mode
        model.save(tmp / MODEL)
        if replay_buffer and getattr(model, "replay_buffer", None) is not None:
            model.save_replay_buffer(tmp / REPLAY_BUFFER)
        if vec_normalize is not None:
            vec_normalize.save(tmp / VECNORMALIZE)
        with open(tmp / RNG, "wb") as f:
            pickle.dump(rng_state(), f)
        for name in os.listdir(tmp):
            _fsync(tmp / name)
        write_json(tmp / STATE, state)  # last: its presence marks a complete folder
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(tmp, folder)
        _fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def checkpoint_folder(run: Path, timesteps: int) -> Path:
    return run / CHECKPOINTS / f"ckpt-{timesteps:012d}"


def checkpoints(run: Path) -> list[Checkpoint]:
    """The complete checkpoints of `run`, oldest first (hidden, half-written folders are skipped)."""
    found = []
    folder = run / CHECKPOINTS
    if not folder.is_dir():
        return []
    for p in folder.iterdir():
        if p.name.startswith("ckpt-") and (p / STATE).is_file() and (p / MODEL).is_file():
            try:
                found.append(Checkpoint(p, int(json.loads((p / STATE).read_text())["timesteps"])))
            except (ValueError, KeyError, OSError):
                continue
    return sorted(found, key=lambda c: c.timesteps)


def prune_checkpoints(run: Path, keep: int) -> None:
    """Keep the newest `keep` checkpoints; remove older ones and leftovers of interrupted writes."""
    for c in checkpoints(run)[:-keep]:
        shutil.rmtree(c.path, ignore_errors=True)
    remove_partial(run / CHECKPOINTS)


def remove_partial(folder: Path) -> None:
    """Remove the temporary folders a killed writer left in `folder`."""
    if folder.is_dir():
        for p in folder.iterdir():
            if p.name.startswith(".tmp-"):  # a link (`best`'s next target) is unlinked, never followed
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)


def save_best(run: Path, model: Any, vec_normalize: Any | None, state: dict[str, Any]) -> None:
    """Write the best model as `best-<timesteps>/` and point the `best` link at it (swapped
    atomically with a rename); the previous best folder is removed."""
    folder = run / f"{BEST}-{state['timesteps']:012d}"
    save_snapshot(folder, model, vec_normalize, state)
    link = run / BEST
    old = link.resolve() if link.is_symlink() else None
    tmp_link = run / f".tmp-{BEST}-link-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(folder.name, tmp_link)
    os.replace(tmp_link, link)
    _fsync_dir(run)
    if old is not None and old != folder.resolve():
        shutil.rmtree(old, ignore_errors=True)


def model_in(path: Path) -> Path:
    """The model `scn eval` uses for `path`: a `.zip` as given; the model of a snapshot folder
    (`best/`, `final/`, a checkpoint); for a run directory its best model, else its final one,
    else its latest checkpoint."""
    if path.is_file():
        if path.suffix != ".zip":
            raise RunDirError("not a model (a model is a .zip: model.zip in best/, final/ or a checkpoint)",
                              path=str(path))
        return path
    for candidate in (path / MODEL, path / BEST / MODEL, path / FINAL / MODEL):
        if candidate.is_file():
            return candidate
    found = checkpoints(path)
    if found:
        return found[-1].model
    raise RunDirError("the run has no model yet (no best/, final/ or checkpoint)", path=str(path))


# ---- random state ------------------------------------------------------------------------------

def rng_state() -> dict[str, Any]:
    """The state of Python's, NumPy's and torch's global generators."""
    import numpy as np
    import torch

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


# ---- CSV logs ----------------------------------------------------------------------------------

class CsvLog:
    """An append-only CSV file with a fixed header, flushed after every row (a killed run keeps
    every row it wrote, at worst a partial last line, which `truncate_csv` drops)."""

    def __init__(self, path: Path, columns: Iterable[str]) -> None:
        self.columns = list(columns)
        new = not path.exists() or path.stat().st_size == 0
        if not new:  # a run written by an older scn keeps its own header: new columns are left out
            with open(path, newline="", encoding="utf-8") as f:
                self.columns = next(csv.reader(f), []) or self.columns
        self.file = open(path, "a", newline="", encoding="utf-8")
        self.writer = csv.DictWriter(self.file, self.columns, extrasaction="ignore")
        if new:
            self.writer.writeheader()
            self.file.flush()

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow(row)
        self.file.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    """The complete rows of a CSV log (none when it does not exist)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        return [row for row in reader if _complete(row, columns)]


def truncate_csv(path: Path, column: str, limit: int) -> None:
    """Keep the rows of `path` whose `column` is at most `limit` (the work a resumed run redoes
    would otherwise appear twice), and drop a partial last line."""
    if not path.is_file():
        return
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        rows = []
        for row in reader:
            try:
                if _complete(row, columns) and float(row[column]) <= limit:
                    rows.append(row)
            except (KeyError, TypeError, ValueError):
                continue
    if not columns:
        return
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, text.getvalue())  # flushed, renamed, a plain file's mode


def _complete(row: dict[Any, Any], columns: Sequence[str]) -> bool:
    """A row with every column (a partial last line has fewer; a garbled one more)."""
    return None not in row and all(row.get(c) is not None for c in columns)


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
