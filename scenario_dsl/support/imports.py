"""Running code when another package is first imported, without importing it: how `import
scenario_dsl` registers its gym ids with Gymnasium only once Gymnasium is there (a process that
only lints never loads it)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any


def when_imported(name: str, callback: Callable[[], None]) -> None:
    """Call `callback()` once the top-level package `name` has been imported: now if it already
    is, else right after its first import finishes. A callback that raises only warns: the
    package's import must not fail because of it."""
    if name in sys.modules:
        _call(callback, name)
    else:
        sys.meta_path.insert(0, _AfterImport(name, callback))


def _call(callback: Callable[[], None], name: str) -> None:
    try:
        callback()
    except Exception as exc:  # a hook must never break the import it follows
        warnings.warn(f"scn: after importing {name}: {type(exc).__name__}: {exc}", stacklevel=3)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: asks the other finders for `name`'s spec and wraps its loader."""

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # one shot, and no recursion into this finder below
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenCall(spec.loader, self.callback, fullname)
        return spec


class _ThenCall(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, callback: Callable[[], None], name: str) -> None:
        self.loader, self.callback, self.name = loader, callback, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _call(self.callback, self.name)

    def __getattr__(self, attribute: str) -> Any:  # resource readers and the like: the real loader's
        return getattr(self.loader, attribute)
