"""Reading a scenario file into a `SourceFile`: unreadable, binary, undecodable or huge files
become diagnostics, never exceptions.

Reading is bounded: only regular files are read (a device, FIFO, socket or a file under /proc or
/sys is refused before a byte is read: its reported size means nothing), the file is opened with
O_NONBLOCK so a FIFO swapped in cannot block, the open descriptor is checked again, and bytes are
counted as they arrive (at most the limit + 1 are ever read). `read_bounded` is the same reader
for the other files scn reads for a scenario (model files, the project's configuration).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.source import SourceFile, Span, remember

MAX_FILE_BYTES = 5 * 1024 * 1024
_PSEUDO_FILESYSTEMS = (Path("/proc"), Path("/sys"))
_CHUNK = 1 << 16


class NotRegularFile(OSError):
    """The path is not a regular file (a folder, device, FIFO, socket, or a /proc or /sys file)."""


class TooLarge(OSError):
    """The file holds more bytes than the limit; `size` is what was seen (a lower bound when read)."""

    def __init__(self, size: int, limit: int, counted: bool) -> None:
        super().__init__(f"over {limit} bytes")
        self.size, self.limit, self.counted = size, limit, counted


def special_file(path: str | Path) -> str | None:
    """Why `path` (followed through symlinks) is not a regular file scn may read, or None when it is
    one or does not exist. Reads nothing."""
    try:
        resolved = Path(os.path.realpath(path))
        mode = os.stat(resolved).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode):
        kind = ("a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
                else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
        return f"is not a regular file ({kind})"
    if any(resolved.is_relative_to(fs) for fs in _PSEUDO_FILESYSTEMS):
        return f"is not a regular file (a file of the kernel's {resolved.parts[1]} filesystem)"
    return None


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, reading at most `limit` + 1 of them. Raises
    `NotRegularFile` (nothing read), `TooLarge`, or the `OSError` of opening or reading."""
    problem = special_file(path)
    if problem is not None:
        raise NotRegularFile(problem)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)  # the file that is open, whatever the path names by now
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile("is not a regular file")
        if info.st_size > limit:
            raise TooLarge(info.st_size, limit, counted=False)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise TooLarge(total, limit, counted=True)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_source(path: str | Path) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read a scenario file; unreadable, binary or huge files become diagnostics."""
    shown = str(path)
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except NotRegularFile as exc:
        hint = ("pass .scn files, or a folder to `scn lint`" if "folder" in str(exc)
                else "scenario files are regular files; this one was not read")
        return None, [Diagnostic("SCN001", str(exc), path=shown, hint=hint)]
    except TooLarge as exc:
        size = f"{exc.size / 1e6:.1f} MB" if not exc.counted else f"over {exc.limit / 1e6:.1f} MB"
        message = f"file is {size}; the limit is {MAX_FILE_BYTES // 2**20} MiB"
        return None, [Diagnostic("SCN003", message, path=shown, hint="split it with `include`")]
    except FileNotFoundError:
        return None, [Diagnostic("SCN001", "no such file", path=shown, hint="check the path")]
    except OSError as exc:
        return None, [Diagnostic("SCN001", f"cannot read the file: {exc.strerror or exc}", path=shown)]
    return decode_source(shown, data)


def decode_source(path: str, data: bytes) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Decode bytes as UTF-8 (a BOM is allowed); invalid bytes are an SCN002 at their place."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        source = SourceFile(path, good + "\ufffd")
        return None, [Diagnostic("SCN002", f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                                 Span(source, len(good), len(good) + 1), "save the file as UTF-8")]
    if "\x00" in text:
        at = text.index("\x00")
        source = SourceFile(path, text)
        return None, [Diagnostic("SCN002", "the file holds a NUL byte: it looks binary", Span(source, at, at + 1),
                                 "scenario files are UTF-8 text")]
    return remember(SourceFile(path, text)), []
