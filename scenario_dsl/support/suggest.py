""""Did you mean" hints: the one way scn suggests a name, a unit, a setting or a hyperparameter."""

from __future__ import annotations

from collections.abc import Sequence


def did_you_mean(name: str, candidates: Sequence[str]) -> str | None:
    """`did you mean `x`?` for the candidate closest to `name`, or None when none is close."""
    import difflib  # only hints for errors need it: linting clean files never imports it

    close = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
