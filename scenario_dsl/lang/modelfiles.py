"""What a model file declares (links, joints, actuators), read as XML without Drake.

Lint uses this to check names like `cart_pole.CartSlider.q` and sizes like `plant.state`
without importing pydrake. `package://drake/...` resolves inside the installed drake wheel
(found with `importlib.util.find_spec`, which does not import it); `package://manipulation/...`
likewise; `package://drake_models/...` is a download and is reported instead of tried.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

# URDF/SDF joint types -> scn joint types (scn's names follow Drake's joint classes)
_JOINT_TYPES = {
    "revolute": "revolute", "continuous": "revolute", "prismatic": "prismatic", "fixed": "weld",
    "floating": "free", "planar": "planar", "ball": "ball", "universal": "universal", "screw": "screw",
}
_POSITIONS = {"weld": 0, "revolute": 1, "prismatic": 1, "planar": 3, "ball": 3, "universal": 2, "free": 7, "screw": 1}
_VELOCITIES = {"weld": 0, "revolute": 1, "prismatic": 1, "planar": 3, "ball": 3, "universal": 2, "free": 6, "screw": 1}


class ModelFileError(Exception):
    """The URL cannot be resolved or the file cannot be read; `code` is the SCN code."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


@dataclass(frozen=True)
class ModelJoint:
    name: str
    type: str
    parent: str
    child: str

    @property
    def positions(self) -> int:
        return _POSITIONS.get(self.type, 1)

    @property
    def velocities(self) -> int:
        return _VELOCITIES.get(self.type, 1)


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    links: tuple[str, ...]
    joints: tuple[ModelJoint, ...]
    actuated: tuple[str, ...] = field(default=())  # joint names with an actuator, in file order

    def joint(self, name: str) -> ModelJoint | None:
        return next((j for j in self.joints if j.name == name), None)

    @property
    def floating_links(self) -> tuple[str, ...]:
        """Links that no joint makes a child: Drake gives each a free joint unless welded."""
        children = {j.child for j in self.joints}
        return tuple(link for link in self.links if link not in children)


_PACKAGE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _package_root(package: str) -> Path | None:
    """The folder of an installed Python package named `package` (a plain name, no dots), or None.

    `find_spec` of a top-level name imports nothing; a dotted name would import its parent
    package, so callers check the name first."""
    module = "pydrake" if package == "drake" else package
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # e.g. a module in sys.modules without a __spec__
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / {"drake": "share/drake", "manipulation": "models"}.get(package, "")


def resolve_url(url: str, base_dir: str | Path | None) -> Path:
    """The file a model URL names; raises `ModelFileError` when it cannot be found offline."""
    if url.startswith("package://"):
        package, _, rest = url[len("package://"):].partition("/")
        if package == "drake_models":
            raise ModelFileError("SCN502", f"`{url}` would be downloaded by Drake, and this machine has no network",
                                 "use a model shipped in the drake wheel (package://drake/examples/...), "
                                 "primitives declared in the scenario, or a model file next to the scenario")
        if not _PACKAGE_NAME.fullmatch(package):
            shown = f"`{package}`" if package else "an empty name"
            raise ModelFileError("SCN502", f"`{url}` names {shown}, not a package",
                                 "write package://NAME/path/to/file, where NAME is an installed package "
                                 "(letters, digits and `_`), or use a path relative to the scenario")
        root = _package_root(package)
        if root is None:
            raise ModelFileError("SCN502", f"package `{package}` is not installed",
                                 "install it, or ship the model file next to the scenario and use a relative path")
        path = root / rest
    elif url.startswith("file://"):
        path = Path(url[len("file://"):])
    else:
        path = Path(base_dir or ".") / url
    if not path.is_file():
        raise ModelFileError("SCN501", f"model file `{url}` not found", f"looked for {path}")
    return path


@functools.cache
def inspect_model(path: Path) -> ModelInfo:
    """Links and joints of a URDF or SDF file (raises `ModelFileError` SCN507 on bad XML)."""
    try:
        text = path.read_text(encoding="utf-8")
        if "xmlns:drake" not in text:
            # Drake's own files use the `drake:` prefix without declaring it.
            text = re.sub(r"<(sdf|robot)\b", r'<\1 xmlns:drake="http://drake.mit.edu"', text, count=1)
        root = ET.fromstring(text)
    except (ET.ParseError, OSError, UnicodeDecodeError) as exc:
        raise ModelFileError("SCN507", f"cannot read model file {path.name}: {exc}") from None
    links = tuple(e.get("name", "") for e in root.iter("link") if e.get("name") != "world")
    joints: list[ModelJoint] = []
    joint_elements = root.findall("joint") if root.tag == "robot" else root.findall(".//model/joint")
    for element in joint_elements:
        kind = _JOINT_TYPES.get(element.get("type", ""), element.get("type", ""))
        parent = element.find("parent")
        child = element.find("child")
        joints.append(ModelJoint(
            element.get("name", ""), kind,
            (parent.get("link") or parent.text or "").strip() if parent is not None else "",
            (child.get("link") or child.text or "").strip() if child is not None else "",
        ))
    if root.tag == "robot":  # URDF: a joint is actuated through a <transmission>
        actuated = tuple(
            j.get("name", "") for t in root.iter("transmission") for j in t.iter("joint") if j.get("name")
        )
    else:  # SDF: Drake adds an actuator to every movable joint whose effort limit is not 0
        actuated = tuple(
            e.get("name", "") for e in joint_elements
            if _JOINT_TYPES.get(e.get("type", "")) not in ("weld", None)
            and float(e.findtext("axis/limit/effort") or -1) != 0
        )
    return ModelInfo(path, links, tuple(joints), actuated)
