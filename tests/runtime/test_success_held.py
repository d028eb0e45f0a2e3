"""`success when COND [for TIME] [{ end_episode = false }]` (issue 19 item 16): success that must
last, and success that is counted without ending the episode; the single env and a batch alike."""

from __future__ import annotations

import numpy as np
import pytest

from scenario_dsl import loads
from scenario_dsl.lang.diagnostics import ScenarioError
from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.source import SourceFile
from scenario_dsl.runtime.batch import WorldBatch
from scenario_dsl.runtime.env import ScenarioEnv

BASE = """scenario rail "a block pushed along a rail"
plant { time_step = 10 ms }
body block { mass = 1 kg; shape = box(0.1, 0.1, 0.1) }
joint rail: prismatic(world -> block, axis = [1, 0, 0]) { actuated }
action push = rail.effort in [-5, 5] N
observation state = [rail.q, rail.v]
reward { 1 as alive }
episode {
    step = 50 ms
    time_limit = 2 s
    SUCCESS
}
"""


def _scenario(success: str):  # type: ignore[no-untyped-def]
    return loads(BASE.replace("SUCCESS", success), "rail.scn")


def _run(scenario, pushes):  # type: ignore[no-untyped-def]
    env = ScenarioEnv(scenario)
    env.reset(seed=0)
    seen = []
    for push in pushes:
        _, _, terminated, truncated, info = env.step(np.array([push]))
        seen.append((info["is_success"], terminated, truncated))
        if terminated or truncated:
            break
    return seen


def test_the_settings_are_read_and_formatted() -> None:
    success = _scenario("success when rail.q > 0.01 m for 0.12 s { end_episode = false }").episode.success
    assert success is not None and success.hold == pytest.approx(0.12) and success.end_episode is False
    assert _scenario("success when rail.q > 0.01 m for 0.12 s").episode.success_steps == 3  # rounded up
    assert _scenario("success when rail.q > 0.01 m").episode.success_steps == 1
    text = BASE.replace("SUCCESS", "success when rail.q > 0.01 m  for 150 ms {end_episode = false}")
    formatted, problems = format_source(SourceFile("rail.scn", text))
    assert formatted is not None and not problems
    assert "success when rail.q > 0.01 m for 150 ms { end_episode = false }" in formatted


@pytest.mark.parametrize(("success", "code"), [("success when rail.q > 0 m for 1 m", "SCN302"),
                                               ("success when rail.q > 0 m for -1 s", "SCN40"),
                                               ("success when rail.q > 0 m { ends = false }", "SCN2")])
def test_mistakes_are_found_at_lint(success: str, code: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        _scenario(success)
    assert any(d.code.startswith(code) for d in caught.value.diagnostics)


def test_success_must_last_before_it_ends_the_episode() -> None:
    pushes = [5.0] * 40  # the block leaves q > 1 cm after a few steps and stays there
    once = _run(_scenario("success when rail.q > 0.01 m"), pushes)
    held = _run(_scenario("success when rail.q > 0.01 m for 0.2 s"), pushes)
    assert once[-1] == (True, True, False) and held[-1] == (True, True, False)
    assert len(held) == len(once) + 3  # 4 steps of 50 ms in a row, the first of them where `once` ended
    assert not any(s for s, _, _ in held[:-1])


def test_success_that_does_not_end_the_episode_is_reported_at_its_end() -> None:
    pushes = [5.0] * 10 + [-5.0] * 30  # out past 1 cm, then back below it before the time limit
    seen = _run(_scenario("success when rail.q > 0.01 m for 0.2 s { end_episode = false }"), pushes)
    assert len(seen) == 40 and seen[-1][2] and not any(t for _, t, _ in seen)  # ran to the time limit
    assert any(s for s, _, _ in seen) and not seen[-1][0]  # it held for a while, not at the end


def test_a_batch_counts_success_as_the_single_env_does() -> None:
    scenario = _scenario("success when rail.q > 0.01 m for 0.2 s { end_episode = false }")
    batch = WorldBatch(scenario, 2, seed=5)
    batch.reset([None, None])
    envs = [ScenarioEnv(scenario) for _ in range(2)]
    for i, env in enumerate(envs):
        env.reset(seed=5 + i)
    rng = np.random.default_rng(1)
    successes = 0
    for _ in range(120):
        actions = rng.uniform(-1, 1, (2, 1))
        step = batch.step(actions)
        for i, env in enumerate(envs):
            _, _, terminated, truncated, info = env.step(actions[i])
            assert info["is_success"] == step.infos[i]["is_success"]
            assert (terminated, truncated) == (step.terminated[i], step.truncated[i])
            successes += info["is_success"]
            if terminated or truncated:
                env.reset()
    assert successes > 0
