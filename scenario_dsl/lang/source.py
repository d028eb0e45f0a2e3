"""Source text and spans: the first stage of the pipeline.

A `SourceFile` holds the decoded text of one `.scn` file; a `Span` points at a range of it
by character offsets and knows how to turn them into 1-based line and column numbers.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """The text of one scenario file, with the path it came from (or a pseudo-name)."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        find, at = self.text.find, self.text.find("\n")
        while at >= 0:  # str.find skips to each newline in C; a loop over characters is ~20x slower
            starts.append(at + 1)
            at = find("\n", at + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        """Read a file as UTF-8 (raises `UnicodeDecodeError` and `OSError` to the caller)."""
        return cls(str(path), Path(path).read_bytes().decode("utf-8"))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based line and column (clamped to the text)."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return min(start + max(column, 1) - 1, end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")


@dataclass(frozen=True)
class Span:
    """A half-open range `[start, end)` of character offsets in one source file."""

    source: SourceFile = field(repr=False, compare=False, hash=False)
    start: int
    end: int

    def __init__(self, source: SourceFile, start: int, end: int) -> None:
        # The parser makes a span per node and per name; filling `__dict__` directly takes half
        # the time of the `object.__setattr__` calls that the dataclass would generate.
        fields = self.__dict__
        fields["source"], fields["start"], fields["end"] = source, start, end

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def end_line_col(self) -> tuple[int, int]:
        return self.source.line_col(self.end)

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other` (same file)."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


#: The texts the front end read in this process, by path (the newest few hundred): a place found
#: after validation (a compile or sampling error's `Where`) is shown in the text that was
#: compiled, not in whatever the file holds by then.
_REMEMBERED: dict[str, SourceFile] = {}
_REMEMBER_AT_MOST = 256


def remember(source: SourceFile) -> SourceFile:
    """Keep `source` for `remembered(source.path)`; returns it."""
    _REMEMBERED.pop(source.path, None)
    _REMEMBERED[source.path] = source
    if len(_REMEMBERED) > _REMEMBER_AT_MOST:
        del _REMEMBERED[next(iter(_REMEMBERED))]
    return source


def remembered(path: str) -> SourceFile | None:
    """The text the front end last read from `path` in this process, if any."""
    return _REMEMBERED.get(path)

