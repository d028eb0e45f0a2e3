"""`scn lsp` end to end: the language server in its own process, driven by a real LSP client
(pytest-lsp): diagnostics with codes and ranges that clear when the file is fixed, hover with
units, go to a joint's definition across an include, completion after `box.`, the outline,
formatting, and the quick fix a "did you mean" hint proposes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

PIECE = """# the joints, included
joint slide: prismatic(world -> box, axis = [1, 0, 0]) { actuated }
"""

MAIN = """scenario pushed
include "piece.scn"
param box_mass = 500 g
body box { shape = box(0.1, 0.1, 0.1); mass = box_mass }
action push = slide.effort in [-1, 1] N
observation state = [slide.q, box.x]
reward { -slide.q^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "scenario_dsl", "lsp"]))
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def _project(tmp_path: Path, text: str = MAIN) -> tuple[Path, str]:
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "piece.scn").write_text(PIECE)
    main = tmp_path / "pushed.scn"
    main.write_text(text)
    return main, main.as_uri()


async def _open(client: LanguageClient, uri: str, text: str) -> list[lsp.Diagnostic]:
    item = lsp.TextDocumentItem(uri=uri, language_id="scn", version=1, text=text)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics.get(uri, []))


@pytest.mark.asyncio
async def test_diagnostics_come_with_codes_and_ranges_and_clear_when_fixed(client: LanguageClient,
                                                                           tmp_path: Path) -> None:
    broken = MAIN.replace("mass = box_mass", "mass = box_mas")
    _, uri = _project(tmp_path, broken)
    (found,) = [d for d in await _open(client, uri, broken) if d.severity == lsp.DiagnosticSeverity.Error]
    assert found.code == "SCN201" and "box_mas" in found.message and "did you mean `box_mass`" in found.message
    assert found.range == lsp.Range(start=lsp.Position(line=3, character=46), end=lsp.Position(line=3, character=53))
    assert found.severity == lsp.DiagnosticSeverity.Error and found.source == "scn"
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=found.range,
        context=lsp.CodeActionContext(diagnostics=[found])))
    assert actions and actions[0].edit.changes[uri][0].new_text == "box_mass"
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=MAIN)]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []  # the error and the unused parameter's warning, both gone


@pytest.mark.asyncio
async def test_hover_shows_a_parameter_with_its_value_in_si_units(client: LanguageClient, tmp_path: Path) -> None:
    _, uri = _project(tmp_path)
    await _open(client, uri, MAIN)
    result = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=3, character=50)))
    assert result is not None
    assert "**param** `box_mass`" in result.contents.value and "500 g" in result.contents.value
    assert "value: `0.5`" in result.contents.value


@pytest.mark.asyncio
async def test_go_to_a_joints_definition_across_an_include(client: LanguageClient, tmp_path: Path) -> None:
    _, uri = _project(tmp_path)
    await _open(client, uri, MAIN)
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=4, character=16)))
    assert isinstance(found, lsp.Location)
    assert found.uri == (tmp_path / "piece.scn").as_uri()
    assert found.range == lsp.Range(start=lsp.Position(line=1, character=6), end=lsp.Position(line=1, character=11))
    uses = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=4, character=16),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert len(uses) == 4  # declared in the piece; the action, and the observation and reward of pushed.scn


@pytest.mark.asyncio
async def test_completion_after_a_body_offers_its_attributes(client: LanguageClient, tmp_path: Path) -> None:
    _, uri = _project(tmp_path)
    await _open(client, uri, MAIN)
    text = MAIN.replace("observation state = [slide.q, box.x]", "observation state = [slide.q, box.")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(  # as typed: the text does not parse now
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=5, character=34)))
    labels = {item.label for item in (result.items if isinstance(result, lsp.CompletionList) else result or [])}
    assert {"position", "velocity", "x", "mass", "friction", "color"} <= labels
    assert "scenario" not in labels  # after `box.`, attributes only


@pytest.mark.asyncio
async def test_outline_and_formatting(client: LanguageClient, tmp_path: Path) -> None:
    text = MAIN.replace("body box { shape = box(0.1, 0.1, 0.1); mass = box_mass }",
                        "body box {shape=box(0.1,0.1,0.1);mass=box_mass}")
    _, uri = _project(tmp_path, text)
    await _open(client, uri, text)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [s.name for s in symbols] == ["box_mass", "box", "push", "state"]  # not the include's joint
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert edits and "body box { shape = box(0.1, 0.1, 0.1); mass = box_mass }" in edits[0].new_text


@pytest.mark.asyncio
async def test_hover_documents_targets_and_distributions(client: LanguageClient, tmp_path: Path) -> None:
    text = MAIN + "randomize { box.friction ~ uniform(0.5, 1) }\n"
    _, uri = _project(tmp_path, text)
    await _open(client, uri, text)

    async def hovered(character: int) -> str:
        result = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=8, character=character)))
        assert result is not None
        return result.contents.value

    assert "**randomizable** `box.friction`" in await hovered(18) and "per episode" in await hovered(18)
    assert "**distribution** `uniform(low, high)`" in await hovered(29)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=8, character=27)))
    labels = {item.label for item in (result.items if isinstance(result, lsp.CompletionList) else result or [])}
    assert {"uniform", "normal", "kg", "deg", "box", "slide", "randomize"} <= labels


CURRICULUM = """scenario staged
body cart { shape = box(0.1, 0.1, 0.1); mass = 1 kg }
joint rail: prismatic(world -> cart, axis = [1, 0, 0]) { actuated }
action push = rail.effort in [-1, 1] N
observation state = [rail.q, rail.v]
curriculum {
    stage near until success_rate >= 0.8 over 20 episodes { spread = 1 cm }
    stage far { spread = 10 cm }
}
randomize { rail.q ~ spread }
reward { -(rail.q^2) as cost }
episode { step = 50 ms; time_limit = 1 s; success when |rail.q| < 1 cm }
"""


@pytest.mark.asyncio
async def test_a_curriculum_variable_goes_to_its_first_stage(client: LanguageClient, tmp_path: Path) -> None:
    _, uri = _project(tmp_path, CURRICULUM)
    assert await _open(client, uri, CURRICULUM) == []
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=9, character=22)))
    assert isinstance(found, lsp.Location)
    assert found.range.start == lsp.Position(line=6, character=60)  # `spread` in stage `near`
    result = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=9, character=22)))
    assert result is not None and "curriculum variable" in result.contents.value
