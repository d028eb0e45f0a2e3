"""Reading a scenario file into a `SourceFile`: unreadable, binary, undecodable or huge files
become diagnostics, never exceptions."""

from __future__ import annotations

from pathlib import Path

from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.source import SourceFile, Span, remember

MAX_FILE_BYTES = 5 * 1024 * 1024


def read_source(path: str | Path) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read a scenario file; unreadable, binary or huge files become diagnostics."""
    shown = str(path)
    p = Path(path)
    try:
        if p.is_dir():
            return None, [Diagnostic("SCN001", "is a folder, not a file", path=shown,
                                     hint="pass .scn files, or a folder to `scn lint`")]
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            message = f"file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MiB"
            return None, [Diagnostic("SCN003", message, path=shown, hint="split it with `include`")]
        data = p.read_bytes()
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
