"""scenarios/pendulum.scn against Gymnasium's Pendulum-v1: same actions, same trajectory, same
rewards, as long as the speed stays under Pendulum-v1's 8 rad/s clip (Drake does not clip)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from scenario_dsl import make_env

PENDULUM = Path(__file__).resolve().parents[2] / "scenarios" / "pendulum.scn"
MAX_SPEED = 8.0  # Pendulum-v1 clips the speed here


@pytest.fixture(scope="module")
def envs():
    reference, ours = gym.make("Pendulum-v1").unwrapped, make_env(PENDULUM)
    yield reference, ours
    reference.close()
    ours.close()


def _start_together(reference, ours, seed: int) -> np.ndarray:
    """Reset scn's env with `seed` and put Pendulum-v1 in the same state."""
    observation, _ = ours.reset(seed=seed)
    reference.reset(seed=seed)
    plant = ours.compiled.plant
    state = plant.GetPositionsAndVelocities(plant.GetMyContextFromRoot(ours.simulator.get_context()))
    reference.state = np.array(state, dtype=np.float64)  # float64, as Pendulum-v1 keeps it
    return observation


@pytest.mark.parametrize("seed", range(5))
def test_same_actions_give_the_same_trajectory_and_rewards(envs, seed: int) -> None:
    reference, ours = envs
    _start_together(reference, ours, seed)
    assert -np.pi <= reference.state[0] <= np.pi and abs(reference.state[1]) <= 1  # theta ~ U(-pi, pi), v ~ U(-1, 1)
    rng = np.random.default_rng(seed)
    compared = 0
    for _ in range(200):
        torque = rng.uniform(-2.0, 2.0)
        expected, expected_reward, _, _expected_truncated, _ = reference.step(np.array([torque]))
        got, reward, terminated, _truncated, info = ours.step(np.array([torque / 2.0]))  # normalized
        if abs(expected[2]) >= MAX_SPEED:  # Pendulum-v1 clipped: the trajectories part here
            break
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)  # both float32 observations
        assert reward == pytest.approx(expected_reward, rel=1e-9, abs=1e-9)
        assert info["reward_terms"]["cost"] == pytest.approx(expected_reward, rel=1e-9, abs=1e-9)
        assert not terminated
        compared += 1
    assert compared >= 20  # enough of a trajectory to mean something


def test_the_episode_lasts_200_steps(envs) -> None:
    _, ours = envs
    ours.reset(seed=0)
    for step in range(1, 201):
        *_, terminated, truncated, info = ours.step(np.zeros(1, dtype=np.float32))
        assert not terminated
        assert truncated == (step == 200)
    assert info["truncation_reason"] == "time_limit"


def test_spaces_match_up_to_normalization(envs) -> None:
    reference, ours = envs
    assert ours.observation_space.shape == reference.observation_space.shape == (3,)
    assert ours.action_space.shape == reference.action_space.shape == (1,)
    assert ours.compiled.action_lower.tolist() == reference.action_space.low.tolist() == [-2.0]
    assert ours.compiled.action_upper.tolist() == reference.action_space.high.tolist() == [2.0]
