"""scn's box_flipup against the lecture's hand-written env (manipulation.envs.box_flipup).

Same plant state + same action must give the same observation and reward (to 1e-9), and one
env step from the same state must land in the same state: the compiled diagram is the lecture's.
"""

from __future__ import annotations

import numpy as np
import pytest

box_flipup = pytest.importorskip(
    "manipulation.envs.box_flipup",
    reason="the `manipulation` package (pip install manipulation==2026.10.17) holds the reference env")

from pydrake.multibody.plant import MultibodyPlantConfig  # noqa: E402
from scn_fixtures import box_flipup_scenario  # noqa: E402

from scenario_dsl.runtime.env import make_env  # noqa: E402

TOLERANCE = 1e-9


DRAKE_STICTION_TOLERANCE = 1e-4  # MultibodyPlant's default, which the lecture's plant keeps
BUNDLED = box_flipup_scenario()


@pytest.fixture(scope="module")
def envs():
    """The lecture's env and scn's bundled scenarios/box_flipup.scn, as they are."""
    reference = box_flipup.BoxFlipUpEnv()
    ours = make_env(BUNDLED)
    reference.reset(seed=0)
    ours.reset(seed=0)
    yield reference, ours
    reference.close()
    ours.close()


def _random_state(rng: np.random.Generator) -> np.ndarray:
    q = [rng.uniform(-0.2, 0.2), rng.uniform(0.0, 0.3), rng.uniform(-7, 7), rng.uniform(-0.3, 0.3),
         rng.uniform(0.0, 0.5)]
    return np.concatenate([q, rng.normal(0.0, 1.0, 5)])


def _set(env, state: np.ndarray, action_port_value: np.ndarray) -> None:
    simulator = env.simulator
    diagram = simulator.get_system()
    context = simulator.get_mutable_context()
    context.SetTime(0.0)
    diagram.SetDefaultContext(context)  # zero controller integrators
    plant = diagram.GetSubsystemByName("plant")
    plant.SetPositionsAndVelocities(plant.GetMyMutableContextFromRoot(context), state)
    env.action_port.FixValue(context, action_port_value)


def _outputs(env, observation: str, reward: str) -> tuple[np.ndarray, float]:
    diagram, context = env.simulator.get_system(), env.simulator.get_context()
    return diagram.GetOutputPort(observation).Eval(context), diagram.GetOutputPort(reward).Eval(context)[0]


def test_same_state_and_action_give_same_observation_and_reward(envs) -> None:
    reference, ours = envs
    rng = np.random.default_rng(20240601)
    low, high = reference.action_space.low.astype(float), reference.action_space.high.astype(float)
    for _ in range(200):
        state, physical = _random_state(rng), rng.uniform(low, high)
        _set(reference, state, physical)
        _set(ours, state, ours.compiled.to_agent(physical))
        obs_ref, reward_ref = _outputs(reference, "observations", "reward")
        obs, reward = _outputs(ours, "observation", "reward")
        np.testing.assert_allclose(obs, obs_ref, rtol=0, atol=TOLERANCE)
        assert abs(reward - reward_ref) <= TOLERANCE


def test_the_default_stiction_tolerance_is_drakes() -> None:
    assert BUNDLED.plant.stiction_tolerance == MultibodyPlantConfig().stiction_tolerance == DRAKE_STICTION_TOLERANCE


def test_one_step_from_the_same_state_lands_in_the_same_state(envs) -> None:
    reference, ours = envs
    ours.reset(seed=0)
    rng = np.random.default_rng(7)
    low, high = reference.action_space.low.astype(float), reference.action_space.high.astype(float)
    for _ in range(10):
        state, physical = _random_state(rng), rng.uniform(low, high)
        state[1] = rng.uniform(0.03, 0.2)  # touching the bin or close to it: contact matters
        for env, action in ((reference, physical), (ours, ours.compiled.to_agent(physical))):
            _set(env, state, action)
            env.simulator.Initialize()
            env.simulator.AdvanceTo(0.1)
        assert reference.simulator.get_context().get_time() == pytest.approx(0.1)
        obs_ref, reward_ref = _outputs(reference, "observations", "reward")
        obs, reward = _outputs(ours, "observation", "reward")
        assert np.abs(obs_ref - state).max() > 1e-3  # the step really moved the system
        np.testing.assert_allclose(obs, obs_ref, rtol=0, atol=TOLERANCE)
        assert abs(reward - reward_ref) <= TOLERANCE


def test_spaces_match_up_to_normalization(envs) -> None:
    reference, ours = envs
    assert ours.action_space.shape == reference.action_space.shape
    assert ours.action_space.dtype == reference.action_space.dtype == np.float32
    np.testing.assert_array_equal(ours.action_space.low, -1.0)
    np.testing.assert_array_equal(ours.action_space.high, 1.0)
    # the reference's bounds are float32; scn keeps the physical bounds in float64
    np.testing.assert_array_equal(ours.compiled.action_lower.astype(np.float32), reference.action_space.low)
    np.testing.assert_array_equal(ours.compiled.action_upper.astype(np.float32), reference.action_space.high)
    np.testing.assert_allclose(ours.compiled.to_physical(np.array([-1.0, 1.0])), [-0.5, 0.6])
    assert ours.observation_space.shape == reference.observation_space.shape == (10,)


def test_episode_length_and_randomization_match(envs) -> None:
    _, ours = envs
    xs = []
    for seed in range(20):
        observation, info = ours.reset(seed=seed)
        xs.append(observation[0])
        assert info["randomization"]["box_joint.x"] == pytest.approx(float(observation[0]), abs=1e-6)
        np.testing.assert_allclose(observation[1:], [0.15, 0, 0, 0.25, 0, 0, 0, 0, 0], atol=1e-7)
    assert -0.1 <= min(xs) < -0.03 and 0.03 < max(xs) <= 0.1  # box x ~ U(-0.1, 0.1) about 0, as the lecture's
    assert ours.max_steps == 100  # the lecture's monitor ends after 101 steps (t > 10 s); scn truncates at 10 s
