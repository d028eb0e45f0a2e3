"""What `scn compile` writes: the resolved scenario as JSON, and the diagram as Graphviz.

The JSON document is the `Scenario` (defaults filled, parameters applied, units in SI) with a
content hash and the versions that produced it:

    {"format": "scn.compiled/1", "hash": "sha256:...", "scn": "0.1.0", "drake": "1.51.1",
     "scenario": {...}}

`hash` covers the scenario alone, so two files that say the same thing differently (comments,
units, formatting) hash the same. `load_compiled` reads the document back into a `Scenario`
(`scn train` accepts it in place of a `.scn` file); it is plain JSON, never a pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenario_dsl.lang.model import Scenario

FORMAT = "scn.compiled/1"


def scenario_hash(scenario: Scenario) -> str:
    """`sha256:<hex>` of the scenario's canonical JSON: sorted keys, no whitespace, and without
    the places in the source (`path`, `where`), so only what the scenario means counts."""
    text = json.dumps(_without_places(scenario.model_dump(mode="json")), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _without_places(data: Any, top: bool = True) -> Any:
    # Only the scenario's own `path` and the `where` fields (None or {file, line, column}) are
    # places: a parameter, joint or other user-named key may be spelled `path` or `where` too.
    if isinstance(data, dict):
        return {k: _without_places(v, False) for k, v in data.items()
                if not (top and k == "path") and not (k == "where" and (v is None or isinstance(v, dict)))}
    if isinstance(data, list):
        return [_without_places(v, False) for v in data]
    return data


def versions() -> dict[str, str]:
    """The versions of scn and of the packages a compiled scenario depends on."""
    from importlib.metadata import PackageNotFoundError, version

    from scenario_dsl import __version__

    found = {"scn": __version__}
    for package in ("drake", "gymnasium", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def compiled_document(scenario: Scenario) -> dict[str, Any]:
    """The JSON document `scn compile` writes for `scenario`."""
    return {"format": FORMAT, "hash": scenario_hash(scenario), **versions(),
            "scenario": scenario.model_dump(mode="json")}


class CompiledFileError(ValueError):
    """A file given as a compiled scenario is not one (message says why, for one line of output)."""


def load_compiled(path: str | Path) -> Scenario:
    """The `Scenario` in a JSON document written by `scn compile`; its hash is checked."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompiledFileError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CompiledFileError(f"{path}: not a compiled scenario (expected \"format\": \"{FORMAT}\")")
    if "scenario" not in data:
        raise CompiledFileError(f"{path}: it holds no \"scenario\"")
    try:
        scenario = Scenario.model_validate(data["scenario"])
    except ValidationError as exc:  # one line: the first problem, and how many there are
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "scenario"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CompiledFileError(f"{path}: the scenario in it is invalid at `{where}`: {first['msg']}{more}") from None
    if data.get("hash") != scenario_hash(scenario):
        raise CompiledFileError(f"{path}: its hash does not match its scenario (edited by hand?); "
                                "compile the .scn file again")
    return scenario


@dataclass(frozen=True)
class Written:
    """The files `write_artifacts` wrote, and why an SVG is missing when it is."""

    files: list[Path]
    svg_skipped: str | None = None


def write_artifacts(scenario: Scenario, graphviz: str, out_dir: str | Path) -> Written:
    """Write `<name>.json` and `<name>.dot` into `out_dir` (created if needed), and `<name>.svg`
    when Graphviz's `dot` is on PATH. Each file is written atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, dot_path = out / f"{scenario.name}.json", out / f"{scenario.name}.dot"
    write_text_atomically(json_path, json.dumps(compiled_document(scenario), indent=2) + "\n")
    write_text_atomically(dot_path, graphviz)
    dot = shutil.which("dot")
    svg_path = out / f"{scenario.name}.svg"
    if dot is None:
        svg_path.unlink(missing_ok=True)  # an earlier compile's SVG would not match the new .dot
        return Written([json_path, dot_path], "Graphviz's `dot` is not installed")
    result = subprocess.run([dot, "-Tsvg", str(dot_path)], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        svg_path.unlink(missing_ok=True)
        return Written([json_path, dot_path], f"`dot -Tsvg` failed: {result.stderr.strip()[:200]}")
    write_text_atomically(svg_path, result.stdout)
    return Written([json_path, dot_path, svg_path])


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) through a temporary file, flushed to disk and renamed into
    place, so `path` is never partial; the file gets the mode a plain `open` would give it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a plain file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (`/proc`); elsewhere
    set and restored, which another thread creating a file at that instant could notice."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask
