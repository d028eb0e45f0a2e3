"""scn's version, and the versions of the packages a compiled scenario or a run depends on."""

from __future__ import annotations

__version__ = "0.1.0"


def versions() -> dict[str, str]:
    """The versions of scn and of the packages a compiled scenario depends on."""
    from importlib.metadata import PackageNotFoundError, version  # only compile and train need it

    found = {"scn": __version__}
    for package in ("drake", "gymnasium", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
