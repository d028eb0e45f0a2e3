"""Editor support: the language server (`scn lsp`: `editor.server`, answering from
`editor.analysis`) and the Pygments lexer (`editor.lexer`). It reads the front end (`lang`) only:
an editor never compiles or simulates."""
