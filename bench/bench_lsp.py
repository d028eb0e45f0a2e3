"""The language server on every keystroke (issue 18): how long after a change `scn lsp` publishes
the diagnostics of box_flipup_dr.scn (its includes read from scenarios/), measured from a real
LSP client (pygls): the client sends `textDocument/didChange` with the whole text (a digit of a
number changed, alternately) and times the arrival of `textDocument/publishDiagnostics`. Wall
time, median and 90th percentile over `--changes` changes; the target is 50 ms.

    .venv/bin/python -m bench.bench_lsp [--changes 50] [--scenario box_flipup_dr]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from bench.common import SCENARIOS, machine


async def measure(name: str, changes: int) -> list[float]:
    path = SCENARIOS / f"{name}.scn"
    text = path.read_text()
    client = LanguageClient("bench", "1")
    arrived = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        if params.uri == path.as_uri():
            arrived.set()

    await client.start_io(sys.executable, "-m", "scenario_dsl", "lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=path.as_uri(), language_id="scn", version=1, text=text)))
    await asyncio.wait_for(arrived.wait(), 60)
    edited = text.replace("0.1", "0.2", 1)
    seconds = []
    for version in range(2, changes + 2):
        arrived.clear()
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=edited if version % 2 else text)]))
        await asyncio.wait_for(arrived.wait(), 60)
        seconds.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--scenario", default="box_flipup_dr")
    options = parser.parse_args()
    seconds = asyncio.run(measure(options.scenario, options.changes))
    ms = sorted(s * 1e3 for s in seconds)
    print(f"# {machine()}; wall time; {options.changes} changes of {options.scenario}.scn")
    print(f"change -> diagnostics: median {statistics.median(ms):.1f} ms, 90th percentile "
          f"{ms[int(0.9 * (len(ms) - 1))]:.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms (target: 50 ms)")


if __name__ == "__main__":
    main()
