"""scn's benchmarks (issue 6): `python -m bench [--quick] [--only NAME ...]` runs them all.

Each module is also a script of its own (`python -m bench.bench_overhead --quick`). Benchmarks
print and record figures; they assert nothing (tests assert behaviour). See docs/benchmarks.md.
"""
