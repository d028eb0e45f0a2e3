"""Kept so that `import scenario_dsl.registration` (and `gymnasium.make("scenario_dsl.registration:scn/...")`)
registers scn's gym ids as before: they live in `scenario_dsl.runtime.registration`."""

from scenario_dsl.runtime.registration import (
    BUNDLED_IDS,
    NAMESPACE,
    bundled_scenarios,
    make_from_path,
    register_scenarios,
)

__all__ = ["BUNDLED_IDS", "NAMESPACE", "bundled_scenarios", "make_from_path", "register_scenarios"]
