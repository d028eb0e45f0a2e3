"""One home for each catalogue: the lists the language reads (distributions, contact targets,
algorithms, contact models) are defined once, and every stage that implements an entry covers
the whole list, so adding one is one edit that these tests follow to each implementation."""

from __future__ import annotations

import numpy as np
import pytest

from scenario_dsl.cli.app import COMMANDS
from scenario_dsl.compiler.randomize import CONTACT_PROPERTIES
from scenario_dsl.lang import model as m
from scenario_dsl.lang.names import CONTACT_TARGETS, RANDOM_TARGETS
from scenario_dsl.lang.typecheck import DISTRIBUTIONS as CALLABLE
from scenario_dsl.sampling.sampler import _FAMILIES, draw
from scenario_dsl.train.hyperparams import algorithm_class


def test_every_distribution_in_the_catalogue_can_be_called_and_validated() -> None:
    assert set(CALLABLE) | {"rpy"} == set(m.DISTRIBUTIONS)
    assert set(m.DISTRIBUTIONS) | {"constant"} == set(m.Family.__args__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("family", [f for f in m.DISTRIBUTIONS if f not in m.ROTATIONS])
def test_the_sampler_draws_every_distribution_of_the_catalogue(family: str) -> None:
    params: dict[str, object] = {"low": 1.0, "high": 3.0, "mean": 0.5, "std": 0.1, "sigma": 0.1, "p": 0.5,
                                 "values": [1.0, 2.0], "min": 0.5, "max": 4.0, "step": 0.5}
    names = [p.rstrip("?") for p in m.DISTRIBUTIONS[family] if not p.endswith("?")]
    dist = m.Distribution(family=family, params={k: params[k] for k in names})  # type: ignore[arg-type]
    values = draw(dist, np.random.default_rng(0), 100)
    assert values.shape[0] == 100 and np.isfinite(values).all()
    assert family == "choice" or family in _FAMILIES


def test_every_contact_target_has_a_drake_property_and_a_unit() -> None:
    assert set(CONTACT_PROPERTIES) == set(CONTACT_TARGETS)
    assert set(CONTACT_TARGETS) <= set(RANDOM_TARGETS["body"])
    assert set(CONTACT_TARGETS) <= set(m.CONTACT_DEFAULTS)


@pytest.mark.parametrize("algo", list(m.ALGORITHMS))
def test_every_algorithm_is_a_class_scn_train_offers(algo: str) -> None:
    assert algorithm_class(algo).__name__ == m.ALGORITHMS[algo][1]
    choices = next(a.options["choices"] for a in COMMANDS["train"].arguments if "--algo" in a.flags)
    assert list(choices) == list(m.ALGORITHMS)


def test_the_contact_models_are_what_the_plant_settings_accept() -> None:
    for name in m.CONTACT_MODELS:
        assert m.PlantSettings(contact_model=name).contact_model == name  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        m.PlantSettings(contact_model="soft")  # type: ignore[arg-type]


def test_every_code_raised_after_lint_is_in_the_docs_table() -> None:
    """docs/diagnostics.md lists each code the compiler, the sampler or the env raises, with why
    lint cannot find it (issue 19, item 2): a new post-lint diagnostic needs a row or a lint check."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    raised: set[str] = set()
    for stage in ("compiler", "sampling", "runtime"):
        for path in (root / "scenario_dsl" / stage).rglob("*.py"):
            raised |= set(re.findall(r'"(SCN\d{3})"', path.read_text()))
    raised |= {"SCN411"}  # SamplingError's class attribute
    page = (root / "docs" / "diagnostics.md").read_text()
    table = page[page.index("## Found after lint"):page.index("\n## SCN001")]
    listed = set(re.findall(r"^\| (SCN\d{3}) \|", table, flags=re.MULTILINE))
    assert raised - {"SCN009"} <= listed, f"raised after lint but not in the table: {sorted(raised - listed)}"
