"""ScenarioVecEnv against DummyVecEnv, step for step with the same seeds, on real compiled
scenarios; its VecEnv plumbing (attributes, methods, indices); PPO trains on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scn_fixtures import SCENARIOS
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from scenario_dsl.runtime.env import EnvFactory
from scenario_dsl.runtime.vec_env import ScenarioVecEnv


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    """An info dict with arrays as lists, for equality."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in info.items()}


def _compare(ours: Any, theirs: Any, steps: int, seed: int) -> int:
    """Step both with the same actions; everything must be equal. Returns the number of dones."""
    ours.seed(seed)
    theirs.seed(seed)
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    assert [_plain(i) for i in ours.reset_infos] == [_plain(i) for i in theirs.reset_infos]
    rng = np.random.default_rng(seed)
    shape = (ours.num_envs, *ours.action_space.shape)
    dones = 0
    for _ in range(steps):
        actions = rng.uniform(-1, 1, shape).astype(ours.action_space.dtype)
        obs_a, rew_a, done_a, info_a = ours.step(actions)
        obs_b, rew_b, done_b, info_b = theirs.step(actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        assert obs_a.dtype == obs_b.dtype and rew_a.dtype == rew_b.dtype
        np.testing.assert_array_equal(rew_a, rew_b)
        np.testing.assert_array_equal(done_a, done_b)
        assert [_plain(i) for i in info_a] == [_plain(i) for i in info_b]
        assert [_plain(i) for i in ours.reset_infos] == [_plain(i) for i in theirs.reset_infos]
        dones += int(done_a.sum())
    return dones


@pytest.mark.parametrize(("name", "n_envs", "n_workers", "steps"), [
    ("pendulum", 3, 2, 210),  # uneven blocks; the 200-step time limit truncates every env once
    ("cart_pole", 2, 1, 60),  # terminations (the pole falls) and automatic resets
])
def test_matches_dummy_vec_env(name: str, n_envs: int, n_workers: int, steps: int) -> None:
    factory = EnvFactory(SCENARIOS / f"{name}.scn")
    ours = ScenarioVecEnv.from_factory(factory, n_envs=n_envs, n_workers=n_workers)
    theirs = DummyVecEnv([factory] * n_envs)
    try:
        dones = _compare(ours, theirs, steps, seed=7)
        assert dones >= n_envs  # episode ends (and the automatic reset) were compared
    finally:
        ours.close()
        theirs.close()


def test_vec_env_interface() -> None:
    venv = ScenarioVecEnv([EnvFactory(SCENARIOS / "pendulum.scn", seed=s) for s in range(4)], n_workers=2)
    try:
        assert venv.num_envs == 4 and venv.render_mode is None
        assert venv.get_attr("max_steps") == [200] * 4
        venv.set_attr("tag", "x", indices=[3, 1])
        assert venv.get_attr("tag", indices=[1, 3]) == ["x", "x"]
        assert venv.has_attr("max_steps") and not venv.has_attr("tag")
        observations = venv.env_method("reset", indices=[2, 0], seed=5)
        np.testing.assert_array_equal(observations[0][0], observations[1][0])  # same seed, same start
        assert venv.env_is_wrapped(VecMonitor, indices=[0]) == [False]  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="n_workers"):
            ScenarioVecEnv([EnvFactory(SCENARIOS / "pendulum.scn")], n_workers=2)
    finally:
        venv.close()
    venv.close()  # closing twice is harmless


def test_ppo_trains_on_it() -> None:
    from stable_baselines3 import PPO

    venv = VecMonitor(ScenarioVecEnv.from_factory(EnvFactory(SCENARIOS / "pendulum.scn"), n_envs=4, n_workers=2))
    try:
        model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu")
        model.learn(total_timesteps=512)
        assert model.num_timesteps >= 512
        obs = venv.reset()
        actions, _ = model.predict(obs, deterministic=True)
        assert actions.shape == (4, *venv.action_space.shape)
    finally:
        venv.close()
