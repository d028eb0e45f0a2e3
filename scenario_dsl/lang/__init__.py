"""The language: text in, a validated `Scenario` out, and every problem as a `Diagnostic`.

`source` (a `SourceFile`) -> `parser` (Lark parse tree) -> `build` (the `ast` nodes) ->
`includes` (the files in one statement order) -> `validate` (names, `units`, `typecheck`,
values: the pydantic `Scenario` of `model`) -> `suppressions` (`# noqa`). `loader` runs them as
one call. `formatter` prints an AST back as text; `evaluate` computes the expression IR of
`model` with NumPy for the sampler and the compiler. Imports nothing of Drake, torch or
Gymnasium: `scn lint` runs on this package alone.
"""
