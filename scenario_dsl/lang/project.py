"""The project a scenario belongs to, and the one rule for which files scn reads on its behalf.

A `.scn` file can come from an untrusted pull request (`scn lint` runs in CI), so every file scn
opens for a scenario (an included file, a model file, a mesh or other file a model file names, a
file met in a folder walk) must resolve, after symlinks, inside one of these folders:

- the project folder: the nearest folder above the root file that holds `pyproject.toml`,
  `scn.toml` or `.git`, or else the root file's own folder;
- the `drake` package of the installed Drake wheel (what `package://drake/...` names);
- a folder the user allows: `--allow-path DIR` on the command line (the command line hands these
  on to the processes it starts in the environment variable `SCN_ALLOW_PATH`, which works the
  same when set by hand), or `allow_paths = ["..."]` in the `[tool.scn]` table of the project's
  `pyproject.toml` or at the top of its `scn.toml` (relative to the project folder).

A file outside them is refused before it is opened (SCN005), and so is anything that is not a
regular file (SCN001 for scenario files, SCN501 for model files): a device, FIFO, socket, or a
file of /proc or /sys. `Project.refusal` is the rule; `Project.check_readable` gives it as a
diagnostic. `package_root` finds an installed package's folder without importing it.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scenario_dsl.lang.config import config_tables
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.reader import special_file
from scenario_dsl.lang.source import Span

PROJECT_MARKERS = ("pyproject.toml", "scn.toml", ".git")
ALLOW_ENV = "SCN_ALLOW_PATH"
# What a refusal of a file outside the project offers besides moving it (the user's choice, never the file's).
ALLOW_A_FOLDER = "allow its folder with `--allow-path DIR` or `allow_paths` in scn.toml"


def project_root(start: Path) -> Path:
    """The project folder of a file in folder `start`: the nearest folder at or above it with
    pyproject.toml, scn.toml or .git, else `start` itself."""
    for folder in (start, *start.parents):
        if any(os.path.lexists(folder / marker) for marker in PROJECT_MARKERS):
            return folder
    return start


@functools.cache
def package_root(package: str) -> Path | None:
    """The folder of an installed Python package named `package` (a plain name, no dots), or None;
    for `drake`, the wheel's `share/drake` (what Drake's own `package://drake/` means).

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
    return (root / {"drake": "share/drake", "manipulation": "models"}.get(package, "")).resolve()


def inside(path: Path, folders: Iterable[Path]) -> bool:
    """Whether the resolved `path` is one of `folders` or below one of them."""
    return any(path == folder or path.is_relative_to(folder) for folder in folders)


@dataclass(frozen=True)
class Refusal:
    """Why a file may not be read: a code (SCN005 outside, or `not_regular_code`), a message, a hint."""

    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class Project:
    """A project folder and the folders beyond it that its files may be read from."""

    root: Path  # resolved
    allowed: tuple[Path, ...]  # resolved: --allow-path / SCN_ALLOW_PATH, then the configuration's
    config_note: str | None = None  # a problem with the configuration, shown with a refusal

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder a scenario of this project may read from."""
        drake = package_root("drake")
        return (self.root, *((drake,) if drake is not None else ()), *self.allowed)

    def refusal(self, path: Path, shown: str | None = None, *, extra: Iterable[Path] = (),
                not_regular_code: str = "SCN001") -> Refusal | None:
        """Why `path` may not be read (outside the project and the allowed folders, or there but
        not a regular file), or None. Opens nothing; a missing file is the caller's to report.
        `extra` are further folders allowed for this one path (a package's own folder)."""
        shown = shown if shown is not None else str(path)
        resolved = Path(os.path.realpath(path))
        if not inside(resolved, (*self.folders, *extra)):
            link = "" if resolved == Path(os.path.abspath(path)) else f" (it resolves to {resolved})"
            hint = ("keep the files a scenario reads inside the project (the folder with pyproject.toml, scn.toml "
                    f"or .git), or {ALLOW_A_FOLDER}")
            if self.config_note:
                hint += f"; {self.config_note}"
            return Refusal("SCN005", f"`{shown}` is outside the project folder {self.root}{link}", hint)
        problem = special_file(resolved)
        if problem is not None and "folder" not in problem:
            return Refusal(not_regular_code, f"`{shown}` {problem}",
                           "scn reads regular files only, and did not open it")
        return None

    def check_readable(self, path: Path, span: Span | None = None, *, shown: str | None = None,
                       not_regular_code: str = "SCN001") -> Diagnostic | None:
        """`refusal` as a diagnostic at `span` (or naming the file itself when there is no span)."""
        refused = self.refusal(path, shown, not_regular_code=not_regular_code)
        if refused is None:
            return None
        return Diagnostic(refused.code, refused.message, span, refused.hint,
                          path=None if span is not None else (shown or str(path)))


def project_of(folder: str | Path) -> Project:
    """The project of a scenario whose file is in `folder`, with the folders it may also read.

    The markers are looked for above `folder` as written (made absolute), then the project folder
    is resolved: a file reached through a symlink belongs to the project it was found in."""
    root = Path(os.path.realpath(project_root(Path(os.path.abspath(folder)))))
    configured, note = _configured(root)
    return Project(root, (*env_allowed(), *configured), note)


def root_of_file(path: str | Path) -> Path:
    """The project folder of the scenario file `path` (its configuration, e.g. `scn fmt`'s width)."""
    return project_root(Path(os.path.realpath(path)).parent)


def check_root(path: str | Path) -> Diagnostic | None:
    """A root file (given by name) may be anywhere, but a symlink in its path may not lead out of
    the project it was named in (`scn lint $(git diff --name-only)` in CI names a pull request's
    symlinks too); and it must be a regular file. None when it may be read (or does not exist)."""
    given = Path(os.path.abspath(path))
    return project_of(given.parent).check_readable(given, shown=str(path))


def env_allowed() -> tuple[Path, ...]:
    """The folders in SCN_ALLOW_PATH (separated by the platform's path separator), resolved."""
    value = os.environ.get(ALLOW_ENV, "")
    return tuple(Path(os.path.realpath(p)) for p in value.split(os.pathsep) if p.strip())


@contextmanager
def allowing(paths: Iterable[str | Path]) -> Iterator[None]:
    """Allow `paths` (folders, relative to the current one) too while the block runs, in this
    process and in those it starts (through SCN_ALLOW_PATH)."""
    added = [os.path.realpath(p) for p in paths]
    if not added:
        yield
        return
    before = os.environ.get(ALLOW_ENV)
    os.environ[ALLOW_ENV] = os.pathsep.join([*([before] if before else []), *added])
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ALLOW_ENV, None)
        else:
            os.environ[ALLOW_ENV] = before


def _configured(root: Path) -> tuple[tuple[Path, ...], str | None]:
    """`allow_paths` of the project's scn.toml (top level) and pyproject.toml (`[tool.scn]`), resolved
    against the project folder; a note when a file cannot be read or the setting is malformed."""
    found: list[Path] = []
    notes: list[str] = []
    for config in config_tables(root):
        name = config.name
        if config.outside:
            notes.append(f"{name} links outside the project and was not read")
            continue
        if config.problem is not None:
            notes.append(f"{name} could not be read ({config.problem.message}), so its allow_paths were ignored")
            continue
        value = config.values.get("allow_paths")
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            notes.append(f"allow_paths in {name} must be a list of folder names, and was ignored")
            continue
        found.extend(Path(os.path.realpath(root / v)) for v in value)
    return tuple(found), "; ".join(notes) or None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXTURES = 256  # files one `texture` pattern may name
MAX_TEXTURE_BYTES = 16 * 1024 * 1024


def texture_files(pattern: str, folder: str | Path) -> tuple[list[str], Refusal | None]:
    """The PNG files a body's `texture = "..."` names, relative to the scenario's folder: one
    file, or several through `*`, `?` and `[...]` in the last part of the name (sorted); each
    must be readable under the project rule, and be a PNG (its signature is read, nothing else)."""
    base = Path(os.path.realpath(folder))
    project = project_of(base)
    if "**" in pattern or any(c in pattern.rpartition("/")[0] for c in "*?["):
        return [], Refusal("SCN404", f"texture `{pattern}`: only the file name may hold a pattern",
                           'e.g. texture = "textures/wood_*.png"')
    if any(c in pattern for c in "*?["):
        # The folder is checked before it is listed: a pattern must not list a folder outside
        # the project (`/etc/*.png`), even to find nothing.
        refused = project.refusal((base / pattern).parent, str(Path(pattern).parent))
        if refused is not None:
            return [], refused
        matches = sorted(glob.glob(str(base / pattern)))[:MAX_TEXTURES + 1]
    else:
        matches = [str(base / pattern)]
    if len(matches) > MAX_TEXTURES:
        return [], Refusal("SCN412", f"texture `{pattern}` names more than {MAX_TEXTURES} files", "name fewer")
    found = []
    for match in matches:
        refused = project.refusal(Path(match), match if match != str(base / pattern) else pattern,
                                  not_regular_code="SCN501")
        if refused is not None:
            return [], refused
        path = Path(match)
        if not path.is_file():
            return [], Refusal("SCN501", f"texture file `{pattern}` not found", f"looked for {path}")
        if path.stat().st_size > MAX_TEXTURE_BYTES:
            return [], Refusal("SCN412", f"texture `{path.name}` is over {MAX_TEXTURE_BYTES // 2**20} MiB",
                               "use a smaller image")
        with open(path, "rb") as f:
            if f.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
                return [], Refusal("SCN507", f"texture `{path.name}` is not a PNG file", "save it as .png")
        found.append(os.path.realpath(path))
    if not found:
        return [], Refusal("SCN501", f"no texture file matches `{pattern}`", f"looked in {base}")
    return found, None
