"""`scn lsp`: the language server of `.scn` files (pygls, over stdin and stdout).

Diagnostics on open, change and save (lint's: codes, places, hints), hover (a name's kind,
declaration and resolved value), go to definition and find references (across includes), the
outline, completion (keywords, declared names, a name's attributes after `.`), formatting
(`scn fmt`), and quick fixes for the diagnostics whose hint proposes one replacement. Positions
are converted between the front end's characters and the protocol's UTF-16 code units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from scenario_dsl.editor import analysis as an
from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.loader import Analysis
from scenario_dsl.lang.source import SourceFile
from scenario_dsl.support.version import __version__

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
            "information": lsp.DiagnosticSeverity.Information}
COMPLETION_KINDS = {"keyword": lsp.CompletionItemKind.Keyword, "field": lsp.CompletionItemKind.Field,
                    "function": lsp.CompletionItemKind.Function, "unit": lsp.CompletionItemKind.Unit,
                    "variable": lsp.CompletionItemKind.Variable, "class": lsp.CompletionItemKind.Class}
SYMBOL_KINDS = {"body": lsp.SymbolKind.Class, "joint": lsp.SymbolKind.Interface, "frame": lsp.SymbolKind.Struct,
                "model": lsp.SymbolKind.Module, "controller": lsp.SymbolKind.Function,
                "marker": lsp.SymbolKind.Object, "camera": lsp.SymbolKind.Object, "light": lsp.SymbolKind.Object,
                "action": lsp.SymbolKind.Event, "observation": lsp.SymbolKind.Field,
                "param": lsp.SymbolKind.Constant, "let": lsp.SymbolKind.Variable}

server = LanguageServer("scn", __version__)
# By document URI: the newest analysis of its text that parsed. While a line is being typed the
# text often does not parse (`box.`): names, hover and completion answer from the last that did.
_analyses: dict[str, Analysis] = {}


def path_of(uri: str) -> str:
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


def uri_of(path: str) -> str:
    return Path(path).absolute().as_uri() if not path.startswith("<") else path


def _utf16(text: str, line: int, column: int) -> int:
    """A character column of a line as UTF-16 code units (what LSP positions count)."""
    lines = text.splitlines()
    prefix = lines[line][:column] if 0 <= line < len(lines) else ""
    return len(prefix.encode("utf-16-le")) // 2


def _characters(text: str, line: int, character: int) -> int:
    """A UTF-16 column of a line as characters (what the front end counts)."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return character
    units = 0
    for index, char in enumerate(lines[line]):
        if units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(lines[line])


def _range(place: an.Place, text: str | None) -> lsp.Range:
    def position(line: int, column: int) -> lsp.Position:
        return lsp.Position(line=line, character=_utf16(text, line, column) if text is not None else column)
    return lsp.Range(start=position(*place.start), end=position(*place.end))


def _text_of(path: str, document_path: str, document_text: str) -> str | None:
    if path == document_path:
        return document_text
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def _refresh(ls: LanguageServer, uri: str) -> None:
    """Analyze the document's text now and publish its diagnostics (and its includes')."""
    document = ls.workspace.get_text_document(uri)
    path = path_of(uri)
    result = an.analyze(document.source, path)
    if result.files:
        _analyses[uri] = result
    for file, found in an.diagnostics_by_file(result, path).items():
        text = _text_of(file, path, document.source)
        items = []
        for d in found:
            place = an.Place.of(d.span) if d.span is not None else an.Place(file, (0, 0), (0, 0))
            message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
            items.append(lsp.Diagnostic(range=_range(place, text), message=message, code=d.code, source="scn",
                                        severity=SEVERITY[an.severity_name(d)],
                                        data={"fix": an.quick_fix(d)}))
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri_of(file) if file != path else uri,
                                                                          diagnostics=items))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    _refresh(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _analyses.pop(params.text_document.uri, None)


def _at(ls: LanguageServer, params: Any) -> tuple[Analysis, str, str] | None:
    """The analysis of the document, and the name under the position with the document's text."""
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    result = _analyses.get(uri) or an.analyze(document.source, path_of(uri))
    line = params.position.line
    word = an.word_at(document.source, line, _characters(document.source, line, params.position.character))
    return (result, word[0], document.source) if word else None


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _at(ls, params)
    text = None
    if found:
        line = found[2].splitlines()[params.position.line] if params.position.line < len(found[2].splitlines()) else ""
        column = _characters(found[2], params.position.line, params.position.character)
        owner = an.owner_before(line, column)
        text = an.target_hover(found[0], owner, found[1]) if owner else None
        text = text or an.hover(found[0], found[1])
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)) if text else None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    found = _at(ls, params)
    declared = an.declarations(found[0]).get(found[1]) if found else None
    if found is None or declared is None:
        return None
    path = path_of(params.text_document.uri)
    text = _text_of(declared.place.path, path, found[2])
    uri = params.text_document.uri if declared.place.path == path else uri_of(declared.place.path)
    return lsp.Location(uri=uri, range=_range(declared.place, text))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = _at(ls, params)
    if found is None:
        return []
    path = path_of(params.text_document.uri)
    return [lsp.Location(uri=params.text_document.uri if place.path == path else uri_of(place.path),
                         range=_range(place, _text_of(place.path, path, found[2])))
            for place in an.references(found[0], found[1])]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    result = _analyses.get(uri) or an.analyze(document.source, path_of(uri))
    line = params.position.line
    column = _characters(document.source, line, params.position.character)
    items = [lsp.CompletionItem(label=label, kind=COMPLETION_KINDS[kind])
             for label, kind in an.completions(result, document.source, line, column)]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: LanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    result = _analyses.get(uri) or an.analyze(document.source, path_of(uri))
    found = []
    for declared in an.outline(result, path_of(uri)):
        whole = _range(an.Place.of(declared.node.span), document.source)
        kind = SYMBOL_KINDS.get(declared.kind, lsp.SymbolKind.Variable)
        found.append(lsp.DocumentSymbol(name=declared.name, kind=kind,
                                        range=whole, selection_range=_range(declared.place, document.source),
                                        detail=declared.kind))
    return found


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    formatted, _ = format_source(SourceFile(path_of(params.text_document.uri), document.source))
    if formatted is None or formatted == document.source:
        return []  # a file that does not parse is not formatted (its diagnostics say why)
    end = len(document.lines)
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=end, character=0))
    return [lsp.TextEdit(range=whole, new_text=formatted)]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION)
def code_actions(ls: LanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    actions = []
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        fix = data.get("fix")
        if fix:
            replaced = lsp.TextEdit(range=diagnostic.range, new_text=fix)
            edit = lsp.WorkspaceEdit(changes={params.text_document.uri: [replaced]})
            actions.append(lsp.CodeAction(title=f"Replace with `{fix}`", kind=lsp.CodeActionKind.QuickFix,
                                          diagnostics=[diagnostic], edit=edit, is_preferred=True))
        if diagnostic.severity == lsp.DiagnosticSeverity.Warning and diagnostic.code:
            line = diagnostic.range.start.line
            document = ls.workspace.get_text_document(params.text_document.uri)
            end = len(document.lines[line].rstrip("\r\n")) if line < len(document.lines) else 0
            at = lsp.Position(line=line, character=end)
            noqa = lsp.TextEdit(range=lsp.Range(start=at, end=at), new_text=f"  # noqa: {diagnostic.code}")
            actions.append(lsp.CodeAction(title=f"Silence {diagnostic.code} on this line (# noqa)",
                                          kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                          edit=lsp.WorkspaceEdit(changes={params.text_document.uri: [noqa]})))
    return actions


def main() -> None:
    server.start_io()
