""""Did you mean" hints: the one way scn suggests a name, a unit, a setting or a hyperparameter.

Each hint compares the name with every candidate (difflib, a few microseconds each), so a file
with n names and n misspellings of them would cost n^2: 20,000 of each took minutes. Inside
`hint_budget()` (the front end runs each file in one) the comparisons of all hints together are
limited; past the budget, hints are left out (None), the diagnostics stay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

#: Candidate comparisons allowed for the hints of one file (a few hundred ms at most).
HINT_BUDGET = 200_000
_budget: ContextVar[list[int] | None] = ContextVar("scn_hint_budget", default=None)


@contextmanager
def hint_budget(comparisons: int = HINT_BUDGET) -> Iterator[None]:
    """Limit the comparisons `did_you_mean` makes inside the block (blocks nest: the inner one counts)."""
    token = _budget.set([comparisons])
    try:
        yield
    finally:
        _budget.reset(token)


def did_you_mean(name: str, candidates: Sequence[str]) -> str | None:
    """`did you mean `x`?` for the candidate closest to `name`, or None when none is close (or
    when the hints of this `hint_budget()` have used it up)."""
    left = _budget.get()
    if left is not None:
        if left[0] < len(candidates):
            left[0] = 0  # spent: later hints with fewer candidates would be a lottery
            return None
        left[0] -= len(candidates)
    import difflib  # only hints for errors need it: linting clean files never imports it

    close = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
