"""Source text and spans: the first stage of the pipeline.

A `SourceFile` holds the decoded text of one `.scn` file; a `Span` points at a range of it
by character offsets and knows how to turn them into 1-based line and column numbers. A line
ends with LF, CRLF or a lone CR, as in the grammar.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

#: A line end: LF, CRLF or a lone CR (the grammar's `_NL` reads the same three).
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class SourceFile:
    """The text of one scenario file, with the path it came from (or a pseudo-name)."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = self.text
        if "\r" not in text:
            # str.find skips to each newline in C; a loop over characters is ~20x slower
            starts = [0]
            find, at = text.find, text.find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = find("\n", at + 1)
        else:  # CRLF or a lone CR: each ends a line, as in the grammar
            starts = [0, *(m.end() for m in _LINE_END.finditer(text))]
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
        """The character offset of a 1-based line and column (clamped to the line, its end included)."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        start, end = self._line_bounds(line)
        return min(start + max(column, 1) - 1, end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line end (LF, CRLF or CR)."""
        start, end = self.line_bounds(line)
        return self.text[start:end]

    def line_bounds(self, line: int) -> tuple[int, int]:
        """The offsets where a 1-based line starts and where its line end starts (the same offset
        twice for a line outside the text), to read part of a long line without copying it."""
        if line < 1 or line > len(self._line_starts):
            return (0, 0) if line < 1 else (len(self.text), len(self.text))
        return self._line_bounds(line)

    def _line_bounds(self, line: int) -> tuple[int, int]:
        """The offsets where a line (1-based, in range) starts and where its line end starts."""
        starts = self._line_starts
        start = starts[line - 1]
        if line == len(starts):
            return start, len(self.text)
        end = starts[line] - 1
        if self.text[end] == "\n" and end > start and self.text[end - 1] == "\r":
            end -= 1
        return start, end


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

