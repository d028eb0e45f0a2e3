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
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.lang.model import Scenario
from scenario_dsl.support.files import write_text_atomically
from scenario_dsl.support.version import versions

FORMAT = "scn.compiled/1"


def scenario_hash(scenario: Scenario) -> str:
    """`sha256:<hex>` of the scenario's canonical JSON: sorted keys, no whitespace, and without
    the places in the source (`path`, `where`), so only what the scenario means counts."""
    return _hash_of(scenario.model_dump(mode="json"))


def _hash_of(document: Any) -> str:
    text = json.dumps(_without_places(document), sort_keys=True, separators=(",", ":"))
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


def compiled_document(scenario: Scenario) -> dict[str, Any]:
    """The JSON document `scn compile` writes for `scenario`."""
    return {"format": FORMAT, "hash": scenario_hash(scenario), **versions(),
            "scenario": scenario.model_dump(mode="json")}


class CompiledFileError(ScnError, ValueError):
    """A file given as a compiled scenario is not one (SCN009)."""

    code = "SCN009"


def load_compiled(path: str | Path) -> Scenario:
    """The `Scenario` in a JSON document written by `scn compile`; its hash is checked."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompiledFileError(f"not a readable JSON file ({exc})", path=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CompiledFileError(f"not a compiled scenario (expected \"format\": \"{FORMAT}\")", path=str(path))
    if "scenario" not in data:
        raise CompiledFileError("it holds no \"scenario\"", path=str(path))
    try:
        scenario = Scenario.model_validate(data["scenario"])
    except ValidationError as exc:  # one line: the first problem, and how many there are
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "scenario"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CompiledFileError(f"the scenario in it is invalid at `{where}`: {first['msg']}{more}",
                                path=str(path)) from None
    # The hash of the scenario as the file holds it, not as this version of scn would write it:
    # a field added to the model since (with its default) must not make older files unreadable.
    if data.get("hash") != _hash_of(data["scenario"]):
        raise CompiledFileError("its hash does not match its scenario (edited by hand?); "
                                "compile the .scn file again", path=str(path))
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
