"""`python -m scenario_dsl ...` runs the `scn` command line."""

import sys

from scenario_dsl.cli import main

if __name__ == "__main__":
    sys.exit(main())
