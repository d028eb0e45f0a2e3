"""Pausing Python's cyclic garbage collector while the front end builds a large object graph.

Parsing and validating a file makes a few objects per character (tokens, AST nodes, spans, the
model), all kept until the end, and none of them in reference cycles that need the collector.
The collector still runs every few hundred allocations and, as the heap grows, walks more and
more of it: on a 100,000-line file it took about half the time of `scn lint`. `paused_gc()`
switches it off for a block and back on after (unless it was off already, so blocks nest);
objects that do form cycles are collected at the next collection after the block.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (reference counting still frees)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
