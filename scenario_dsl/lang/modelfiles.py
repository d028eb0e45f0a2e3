"""What a model file declares (links, joints, actuators), read as XML without Drake, and the
files it names, checked before anything (scn or Drake) opens them.

Lint uses this to check names like `cart_pole.CartSlider.q` and sizes like `plant.state`
without importing pydrake. `package://drake/...` resolves inside the installed drake wheel
(found with `importlib.util.find_spec`, which does not import it) and must stay inside it;
`package://manipulation/...` and other installed packages likewise; `package://drake_models/...`
is a download and is reported instead of tried.

`resolve_url` is the gate that lint and the compiler both pass a model through
(`scenario_dsl.lang.project` is the rule): the model file must be a regular .urdf or .sdf file
inside the project (or the package its URL names, or an allowed folder), and so must every file
it names (`<mesh filename=...>`, SDF `<uri>`, texture maps; SDF files it includes, in turn).
A URI that Drake could only download (`package://drake_models/...`, any package but `drake`,
which is the only one Drake knows offline) or that is not a local file is SCN502, with the
nested file and its line in the message. Files are read with the bounded reader.
"""

from __future__ import annotations

import functools
import os
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from scenario_dsl.lang.project import Project, inside, package_root, project_of
from scenario_dsl.lang.reader import NotRegularFile, TooLarge, read_bounded

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
MODEL_SUFFIXES = (".urdf", ".sdf")  # what Drake parses as URDF or SDF; its other formats are refused
MAX_MODEL_BYTES = 64 * 1024 * 1024
MAX_NESTED_MODELS = 64  # model files (an SDF and the files it includes) checked for one model
_URI_ATTRIBUTES = ("filename", "file")  # URDF <mesh filename>, <texture filename>
_SCHEMES = ("package", "model", "file")
_DOWNLOAD_HINT = ("use a model shipped in the drake wheel (package://drake/examples/...), "
                  "primitives declared in the scenario, or a model file next to the scenario")


def resolve_url(url: str, base_dir: str | Path | None) -> Path:
    """The file a model URL names, resolved, after checking it and every file it names; raises
    `ModelFileError` when it cannot be found offline or may not be read (see the module's docstring)."""
    base = Path(os.path.realpath(base_dir or "."))
    project = project_of(base)
    own: tuple[Path, ...] = ()  # the folder of the package a package:// URL names
    if url.startswith("package://"):
        package, _, rest = url[len("package://"):].partition("/")
        if package == "drake_models":
            raise ModelFileError("SCN502", f"`{url}` would be downloaded by Drake, and this machine has no network",
                                 _DOWNLOAD_HINT)
        if not _PACKAGE_NAME.fullmatch(package):
            shown = f"`{package}`" if package else "an empty name"
            raise ModelFileError("SCN502", f"`{url}` names {shown}, not a package",
                                 "write package://NAME/path/to/file, where NAME is an installed package "
                                 "(letters, digits and `_`), or use a path relative to the scenario")
        root = package_root(package)
        if root is None:
            raise ModelFileError("SCN502", f"package `{package}` is not installed",
                                 "install it, or ship the model file next to the scenario and use a relative path")
        path, own = root / rest, (root,)
        if not inside(Path(os.path.realpath(path)), own):
            raise ModelFileError("SCN005", f"`{url}` leaves the folder of package `{package}` ({root})",
                                 "name a file inside the package")
    elif url.startswith("file://"):
        path = base / url[len("file://"):]  # an absolute path stays itself
    else:
        path = base / url
    # a package's file is confined to the package (checked above); any other to the project's folders
    refused = (Project(own[0], ()) if own else project).refusal(path, url, not_regular_code="SCN501")
    if refused is not None:
        raise ModelFileError(refused.code, refused.message, refused.hint)
    if not path.is_file():
        raise ModelFileError("SCN501", f"model file `{url}` not found", f"looked for {path}")
    resolved = Path(os.path.realpath(path))
    _parsed(resolved)  # not XML: SCN507 before anything else is said about it
    if resolved.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelFileError("SCN507", f"`{url}` is not a URDF or SDF file",
                             "scn loads models from .urdf and .sdf files")
    check_model_references(resolved, project, own)
    return resolved


def check_model_references(model: Path, project: Project, extra: tuple[Path, ...] = ()) -> None:
    """Check every file the model file `model` names, and those its included model files name, as
    Drake would resolve them; raises `ModelFileError` for the first that scn may not read or that
    Drake could only download. Missing files are left to Drake (a mesh Drake never loads is fine)."""
    pending, checked = [model], {model}
    while pending:
        current = pending.pop()
        for uri, line in _parsed(current).uris:
            where = f"{_shown(current, project, extra)}:{line}"
            target = _nested_target(uri, current.parent, where)
            refused = project.refusal(target, uri, extra=extra, not_regular_code="SCN501")
            if refused is not None:
                raise ModelFileError(refused.code, f"{where}: {refused.message}", refused.hint)
            if target.is_dir():
                raise ModelFileError("SCN501", f"{where}: `{uri}` names a folder",
                                     "scn checks the files a model names: name the .sdf, .urdf or mesh file itself")
            resolved = Path(os.path.realpath(target))
            if resolved.suffix.lower() in MODEL_SUFFIXES and resolved.is_file() and resolved not in checked:
                if len(checked) >= MAX_NESTED_MODELS:
                    raise ModelFileError("SCN507", f"{where}: the model includes more than {MAX_NESTED_MODELS} "
                                         "model files", "flatten the model")
                checked.add(resolved)
                pending.append(resolved)


def _nested_target(uri: str, folder: Path, where: str) -> Path:
    """The file a URI inside a model file names, as Drake resolves it offline (raises SCN502 for what
    Drake would download or cannot read locally)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return folder / uri
    if scheme not in _SCHEMES:
        raise ModelFileError("SCN502", f"{where}: `{uri}` is not a local file", "ship the file with the model")
    if scheme == "file":
        return folder / rest
    package, _, sub = rest.partition("/")
    if package == "drake_models":
        raise ModelFileError("SCN502", f"{where}: `{uri}` would be downloaded by Drake, and scn never uses the "
                             "network", _DOWNLOAD_HINT)
    root = package_root("drake")
    if package != "drake" or root is None:
        raise ModelFileError("SCN502", f"{where}: `{uri}` names package `{package}`, which Drake can only "
                             "find online or not at all", "inside a model file, Drake knows package://drake/ "
                             "offline; use a path relative to the model file")
    target = root / sub
    if not inside(Path(os.path.realpath(target)), (root,)):
        raise ModelFileError("SCN005", f"{where}: `{uri}` leaves the folder of package `drake` ({root})",
                             "name a file inside the package")
    return target


def _shown(path: Path, project: Project, extra: tuple[Path, ...]) -> str:
    """A model file's path for a message: relative to the project or package that holds it."""
    drake = package_root("drake")
    places = [(project.root, ""), *((e, "") for e in extra)] + ([(drake, "package://drake/")] if drake else [])
    for folder, prefix in places:
        if path.is_relative_to(folder):
            return prefix + path.relative_to(folder).as_posix()
    return str(path)


@dataclass(frozen=True)
class _Parsed:
    root: ET.Element
    uris: tuple[tuple[str, int], ...]  # every file name the model holds, with its line


def _parsed(path: Path) -> _Parsed:
    """`path` read (bounded) and parsed, cached while the file is unchanged."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ModelFileError("SCN507", f"cannot read model file {path.name}: {exc.strerror or exc}") from None
    return _parse(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=64)
def _parse(path: Path, _mtime: int, _size: int) -> _Parsed:
    try:
        data = read_bounded(path, MAX_MODEL_BYTES)
    except NotRegularFile as exc:
        raise ModelFileError("SCN501", f"model file {path.name} {exc}", "scn reads regular files only") from None
    except TooLarge:
        raise ModelFileError("SCN003", f"model file {path.name} is larger than {MAX_MODEL_BYTES // 2**20} MiB",
                             "scn reads model files up to that size") from None
    except OSError as exc:
        raise ModelFileError("SCN507", f"cannot read model file {path.name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
        if "xmlns:drake" not in text:
            # Drake's own files use the `drake:` prefix without declaring it.
            text = re.sub(r"<(sdf|robot)\b", r'<\1 xmlns:drake="http://drake.mit.edu"', text, count=1)
        root = ET.fromstring(text)
        uris = _uris(data)
    except (ET.ParseError, xml.parsers.expat.ExpatError, UnicodeDecodeError) as exc:
        raise ModelFileError("SCN507", f"cannot read model file {path.name}: {exc}") from None
    return _Parsed(root, uris)


def _uris(data: bytes) -> tuple[tuple[str, int], ...]:
    """The file names in a model file (attributes `filename`/`file`, elements `uri` and `*_map`,
    any namespace), each with its line; read with expat, which fetches no external entity."""
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[tuple[str, int]] = []
    open_uri: list[tuple[list[str], int] | None] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        line = parser.CurrentLineNumber
        found.extend((attributes[a].strip(), line) for a in _URI_ATTRIBUTES if attributes.get(a, "").strip())
        local = name.rpartition(":")[2]
        open_uri.append(([], line) if local == "uri" or local.endswith("_map") else None)

    def text(data: str) -> None:
        if open_uri and open_uri[-1] is not None:
            open_uri[-1][0].append(data)

    def end(name: str) -> None:
        element = open_uri.pop()
        if element is not None and "".join(element[0]).strip():
            found.append(("".join(element[0]).strip(), element[1]))

    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.EndElementHandler = end
    parser.Parse(data, True)
    return tuple(found)


@functools.cache
def inspect_model(path: Path) -> ModelInfo:
    """Links and joints of a URDF or SDF file (raises `ModelFileError` SCN507 on bad XML)."""
    root = _parsed(Path(os.path.realpath(path))).root
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
