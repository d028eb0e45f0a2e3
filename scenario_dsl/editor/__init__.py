"""Editor support: the language server (`scn lsp`: `editor.server`, answering from
`editor.analysis`). It reads the front end (`lang`) only: an editor never compiles or simulates."""
