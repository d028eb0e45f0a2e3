"""The `scn` command line: wires the pipeline's stages and renders their diagnostics at the edge.

Each subcommand is one function registered with `@command(name, help, *arguments)` (`cli.app`)
in a module of its own group: `lint` (lint, fmt), `sample`, `build` (compile, check), `train`
(train, eval, plot), listed in `COMMAND_MODULES`. A handler takes the parsed arguments and the
output streams and returns the exit code; it imports the later stages it needs (Drake, NumPy,
torch, Gymnasium) inside itself, so that `scn lint` and `scn fmt` start without them. A
`ScnError` it raises reaches `cli.app.main`, which renders its diagnostics.

Exit codes, for every subcommand:
    0  success (warnings allowed, unless `--strict`)
    1  problems found: any error diagnostic (or warning with `--strict`); files `fmt --check`
       would change
    2  usage error, or an internal error: an unexpected exception becomes an SCN901 diagnostic
       (set SCN_DEBUG=1 to also print its traceback), never a bare traceback
"""

import importlib

from scenario_dsl.cli.app import COMMANDS, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, PROG, build_parser, expand_paths, main

#: The command modules, in the order `scn --help` lists their commands (each registers its own on import).
COMMAND_MODULES = ("lint", "sample", "build", "train")
for _module in COMMAND_MODULES:
    importlib.import_module(f"scenario_dsl.cli.{_module}")

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "PROG", "build_parser", "expand_paths", "main"]
