"""Domain randomization: the declared distributions are the ones drawn (through real env resets),
one seed fixes an episode, parameters never drift across episodes, and `require` rejects.

Statistical checks use fixed seeds, so they are deterministic: a test either always passes or
always fails. Kolmogorov-Smirnov p-values come from the asymptotic Kolmogorov distribution (no
SciPy here); the threshold (1e-3) is loose on purpose, the sample sizes make a wrong distribution
(a swapped parameter, a wrong unit, a missing exp) fail by many orders of magnitude.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scenario_dsl
from scenario_dsl.lang import model as m
from scenario_dsl.lang.diagnostics import ScenarioError
from scenario_dsl.runtime.env import make_env
from scenario_dsl.sampling.sampler import (
    Sampler,
    SamplingError,
    draw,
    quaternion_to_rpy,
    rpy_to_quaternion,
    truncated_standard_normal,
    uniform_quaternions,
)

ROOT = Path(__file__).resolve().parents[2]
EPISODES = 1500

# The rod turns about the vertical axis, so gravity exerts no torque on it: a torque tau held for
# t seconds turns it by tau t^2 / (2 I), with I = m (0.1^2 + 0.1^2) / 12 = m / 600.
SCENARIO = """
scenario dists "every distribution, drawn at reset"
body rod { shape = box(0.1, 0.1, 0.5); mass = 1 kg; friction = 0.5 }
joint hinge: revolute(world -> rod, axis = [0, 0, 1]) { actuated }
action torque = hinge.effort in [-1, 1]
observation s = [hinge.q, hinge.v]
randomize {
    let u ~ uniform(-1, 2)
    let nrm ~ normal(1, 0.5)
    let tn ~ truncnormal(0, 1, -0.5, 2)
    let tail ~ truncnormal(0, 1, 3, 4)
    let ln ~ lognormal(0.2, 0.5)
    let lu ~ loguniform(0.01, 10)
    let ch ~ choice([1, 2, 5], [0.2, 0.3, 0.5])
    let b ~ bernoulli(0.3)
    let it ~ integers(-2, 3)
    let vec ~ uniform([0, 10], [1, 20])
    let rot ~ uniform_rotation()
    let deg ~ uniform(-90, 90) deg
    rod.mass *~ uniform(0.5, 1.5)
    rod.friction ~ uniform(0.2, 0.9)
    hinge.q ~ normal(0.5, 0.2)
}
reward { -hinge.q^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def ks_pvalue(samples: np.ndarray, cdf: object) -> float:
    """Two-sided one-sample Kolmogorov-Smirnov p-value (asymptotic, with Stephens' correction)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    f = np.asarray(cdf(x), dtype=float)  # type: ignore[operator]
    d = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    return float(min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101)))))


def _uniform_cdf(lo: float, hi: float):
    return lambda x: np.clip((x - lo) / (hi - lo), 0, 1)


CONTINUOUS = {
    "u": _uniform_cdf(-1, 2),
    "nrm": lambda x: _phi((x - 1) / 0.5),
    "tn": lambda x: (_phi(x) - _phi(-0.5)) / (_phi(2) - _phi(-0.5)),
    "tail": lambda x: (_phi(x) - _phi(3)) / (_phi(4) - _phi(3)),
    "ln": lambda x: _phi((np.log(x) - 0.2) / 0.5),
    "lu": lambda x: np.clip((np.log(x) - math.log(0.01)) / (math.log(10) - math.log(0.01)), 0, 1),
    "deg": _uniform_cdf(-math.pi / 2, math.pi / 2),
    "rod.friction": _uniform_cdf(0.2, 0.9),
    "hinge.q": lambda x: _phi((x - 0.5) / 0.2),
    "mass_factor": _uniform_cdf(0.5, 1.5),
}


@pytest.fixture(scope="module")
def env():
    env = make_env(scenario_dsl.loads(SCENARIO, "dists.scn"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def episodes(env) -> dict[str, np.ndarray]:
    """EPISODES resets of one env (seed 7 first, then the stream): the values in `info`, and the
    mass and friction read back from the simulator's context after each reset."""
    rows: dict[str, list] = {}
    plant = env.compiled.plant
    rod = plant.GetBodyByName("rod")
    for i in range(EPISODES):
        _, info = env.reset(seed=7 if i == 0 else None)
        drawn = dict(info["randomization"])
        context = env.simulator.get_context()
        drawn["context_mass"] = rod.get_mass(plant.GetMyContextFromRoot(context))
        drawn["context_friction"] = _context_friction(env, rod)
        drawn["mass_factor"] = drawn["rod.mass"] / 1.0
        for k, v in drawn.items():
            rows.setdefault(k, []).append(v)
    return {k: np.asarray(v, dtype=float) for k, v in rows.items()}


def _context_friction(env, body) -> float:
    """The dynamic friction of `body`'s collision geometry in the simulator's context (what contact uses)."""
    plant, scene_graph = env.compiled.plant, env.compiled.scene_graph
    sg_context = scene_graph.GetMyContextFromRoot(env.simulator.get_context())
    inspector = scene_graph.get_query_output_port().Eval(sg_context).inspector()
    (geometry,) = plant.GetCollisionGeometriesForBody(body)
    return inspector.GetProximityProperties(geometry).GetProperty("material", "coulomb_friction").dynamic_friction()


# ---- the distributions, through env.reset ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_distribution_matches(episodes: dict[str, np.ndarray], name: str) -> None:
    p = ks_pvalue(episodes[name], CONTINUOUS[name])
    assert p > 1e-3, f"{name}: KS p-value {p:.2g}"


def test_ks_rejects_a_wrong_distribution(episodes: dict[str, np.ndarray]) -> None:
    """The check has power: each sample against a neighbouring distribution fails."""
    assert ks_pvalue(episodes["nrm"], lambda x: _phi((x - 1) / 0.6)) < 1e-3
    assert ks_pvalue(episodes["ln"], lambda x: _phi((x - 0.2) / 0.5)) < 1e-3
    assert ks_pvalue(episodes["tn"], lambda x: _phi(x)) < 1e-3


@pytest.mark.parametrize(("name", "values", "probabilities"), [
    ("ch", [1, 2, 5], [0.2, 0.3, 0.5]),
    ("b", [0, 1], [0.7, 0.3]),
    ("it", [-2, -1, 0, 1, 2, 3], [1 / 6] * 6),
])
def test_discrete_distribution_matches(episodes: dict[str, np.ndarray], name: str, values: list[float],
                                       probabilities: list[float]) -> None:
    drawn = episodes[name]
    assert set(np.unique(drawn)) <= set(values)
    counts = np.array([np.count_nonzero(drawn == v) for v in values])
    expected = EPISODES * np.array(probabilities)
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 3 * len(values) + 10, f"{name}: counts {counts.tolist()} against {expected.tolist()}"


def test_vector_uniform_draws_each_element(episodes: dict[str, np.ndarray]) -> None:
    vec = episodes["vec"]
    assert vec.shape == (EPISODES, 2)
    assert ks_pvalue(vec[:, 0], _uniform_cdf(0, 1)) > 1e-3
    assert ks_pvalue(vec[:, 1], _uniform_cdf(10, 20)) > 1e-3
    assert abs(np.corrcoef(vec[:, 0], vec[:, 1])[0, 1]) < 0.1


def test_uniform_rotation_is_uniform_over_so3(episodes: dict[str, np.ndarray]) -> None:
    q = episodes["rot"]
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0)
    # E[q q^T] = I / 4 for the Haar measure (sign-invariant)
    assert np.allclose(q.T @ q / len(q), np.eye(4) / 4, atol=0.03)
    # the rotation angle has CDF (theta - sin theta) / pi on [0, pi]
    angle = 2 * np.arccos(np.clip(np.abs(q[:, 0]), 0, 1))
    assert ks_pvalue(angle, lambda t: (t - np.sin(t)) / np.pi) > 1e-3


# ---- the values drawn are the values used ---------------------------------------------------

def test_mass_and_friction_in_the_context_are_the_drawn_ones(episodes: dict[str, np.ndarray]) -> None:
    """After DrakeGymEnv-style SetRandomContext, the draws are written: not put back to defaults."""
    assert np.allclose(episodes["context_mass"], episodes["rod.mass"])
    assert np.allclose(episodes["context_friction"], episodes["rod.friction"])


def test_scale_draws_never_accumulate(episodes: dict[str, np.ndarray]) -> None:
    """`rod.mass *~ uniform(0.5, 1.5)` of a 1 kg rod stays in [0.5, 1.5] over 1500 resets: each
    episode multiplies the nominal mass, not the previous episode's (a product would drift)."""
    mass = episodes["context_mass"]
    assert mass.min() >= 0.5 and mass.max() <= 1.5
    assert abs(np.log(mass[-500:]).mean() - np.log(mass[:500]).mean()) < 0.05


def test_drawn_mass_is_the_simulated_mass(env) -> None:
    """The same torque turns the rod by tau t^2 / (2 I), I proportional to the drawn mass: the
    turn times the mass is the same in every episode."""
    products = []
    for seed in range(4):
        observation, info = env.reset(seed=seed)
        after, *_ = env.step(np.ones(1, dtype=np.float32))
        products.append((after[0] - observation[0]) * info["randomization"]["rod.mass"])
    masses = [env.reset(seed=s)[1]["randomization"]["rod.mass"] for s in range(4)]
    assert max(masses) / min(masses) > 1.1  # the episodes differ
    assert np.allclose(products, products[0], rtol=2e-3)
    assert products[0] == pytest.approx(1.0 * 0.05**2 / 2 * 600, rel=0.05)


# ---- reproducibility ------------------------------------------------------------------------

def test_same_seed_same_episode(env) -> None:
    first = env.reset(seed=123)
    env.reset(seed=5)
    again = env.reset(seed=123)
    assert first[1]["randomization"] == again[1]["randomization"]
    assert np.array_equal(first[0], again[0])
    assert env.reset(seed=124)[1]["randomization"] != first[1]["randomization"]


def test_a_seeded_stream_replays() -> None:
    def stream(seed: int) -> list[dict]:
        env = make_env(scenario_dsl.loads(SCENARIO, "dists.scn"), seed=seed)
        try:
            return [env.reset()[1]["randomization"] for _ in range(5)]
        finally:
            env.close()

    a, b = stream(11), stream(11)
    assert a == b
    assert len({str(x) for x in a}) == 5  # successive episodes differ


def test_unseeded_envs_differ() -> None:
    """Each unseeded env seeds itself from OS entropy (Drake's default generator would not)."""
    code = ("import scenario_dsl, sys; from scenario_dsl.runtime.env import make_env; "
            "env = make_env(scenario_dsl.loads(sys.stdin.read(), 'dists.scn')); "
            "print(env.reset()[1]['randomization']['u'])")
    draws = {subprocess.run([sys.executable, "-c", code], input=SCENARIO, capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout.strip() for _ in range(2)}
    in_process = {make_env(scenario_dsl.loads(SCENARIO, "dists.scn")).reset()[1]["randomization"]["u"]
                  for _ in range(2)}
    assert len(draws) == 2 and len(in_process) == 2


# ---- require --------------------------------------------------------------------------------

REQUIRE = """
scenario req
body ball { shape = sphere(5 cm); mass = 0.1 kg }
body rod { shape = box(0.1, 0.1, 0.5); mass = 1 kg }
joint hinge: revolute(world -> rod, axis = [0, 0, 1]) { actuated }
action torque = hinge.effort in [-1, 1]
observation s = [hinge.q, hinge.v]
randomize {
    let k ~ uniform(0, 1)
    ball.x ~ uniform(-0.5, 0.5)
    ball.y ~ uniform(-0.5, 0.5)
    require ball.x^2 + ball.y^2 > 0.04 "away from the origin"
    require k > LIMIT "k is large"
}
reward { -hinge.q^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


def test_require_rejects_through_reset() -> None:
    env = make_env(scenario_dsl.loads(REQUIRE.replace("LIMIT", "0.5"), "req.scn"))
    plant = env.compiled.plant
    ball = plant.GetBodyByName("ball")
    for seed in range(200):
        _, info = env.reset(seed=seed)
        drawn = info["randomization"]
        assert drawn["ball.x"] ** 2 + drawn["ball.y"] ** 2 > 0.04 and drawn["k"] > 0.5
        pose = plant.EvalBodyPoseInWorld(plant.GetMyContextFromRoot(env.simulator.get_context()), ball)
        assert pose.translation()[:2] == pytest.approx([drawn["ball.x"], drawn["ball.y"]])


def test_require_acceptance_rate() -> None:
    scenario = scenario_dsl.loads(REQUIRE.replace("LIMIT", "0.5"), "req.scn")
    samples = Sampler(scenario).sample(100_000, np.random.default_rng(0))
    expected = (1 - math.pi * 0.04) * 0.5  # outside the disc, times k > 0.5
    assert samples.acceptance == pytest.approx(expected, rel=0.02)
    r2 = samples.values["ball.x"][:, 0] ** 2 + samples.values["ball.y"][:, 0] ** 2
    assert r2.min() > 0.04 and samples.values["k"].min() > 0.5
    # the accepted draws are the conditional distribution: k uniform on (0.5, 1)
    assert ks_pvalue(samples.values["k"][:, 0], _uniform_cdf(0.5, 1)) > 1e-3


def test_unsatisfiable_require_names_the_worst_constraint() -> None:
    scenario = scenario_dsl.loads(REQUIRE.replace("LIMIT", "1.5"), "req.scn")
    with pytest.raises(SamplingError, match=r'"k is large" rejected .* acceptance rate 0\.000%') as caught:
        Sampler(scenario, max_tries=50).sample(100, np.random.default_rng(0))
    assert caught.value.where is not None and caught.value.where.line == 13
    env = make_env(scenario)
    with pytest.raises(SamplingError, match="k is large"):
        env.reset(seed=0)


def test_scn_sample_cli(tmp_path: Path) -> None:
    from scenario_dsl.cli import main

    out = tmp_path / "hist.png"
    path = tmp_path / "req.scn"
    path.write_text(REQUIRE.replace("LIMIT", "0.5"))
    code = main(["sample", str(path), "-n", "20000", "--seed", "3", "--format", "json", "--plot", str(out)])
    assert code == 0 and out.stat().st_size > 1000
    path.write_text(REQUIRE.replace("LIMIT", "1.5"))
    assert main(["sample", str(path), "-n", "10"]) == 1


def test_scn_sample_plot_to_an_unknown_image_format_is_a_usage_error(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from scenario_dsl.cli import main

    path = tmp_path / "req.scn"
    path.write_text(REQUIRE.replace("LIMIT", "0.5"))
    assert main(["sample", str(path), "-n", "10", "--format", "json", "--plot", str(tmp_path / "h.xyz")]) == 2
    err = capsys.readouterr().err
    assert "SCN901" not in err and "h.xyz" in err


def test_scn_sample_json_statistics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from scenario_dsl.cli import main

    path = tmp_path / "dists.scn"
    path.write_text(SCENARIO)
    assert main(["sample", str(path), "-n", "50000", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    q = report["quantities"]
    assert report["acceptance"] == 1.0
    assert q["u"]["mean"] == pytest.approx(0.5, abs=0.02) and q["u"]["min"] >= -1 and q["u"]["max"] < 2
    assert q["nrm"]["std"] == pytest.approx(0.5, rel=0.02)
    assert q["rod.mass"]["mean"] == pytest.approx(1.0, abs=0.01)  # nominal 1 kg times uniform(0.5, 1.5)
    assert q["rot[0]"]["min"] >= 0


def test_scn_sample_draws_the_build_scope(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from scenario_dsl.cli import main

    path = Path(__file__).resolve().parents[2] / "scenarios" / "box_flipup_dr.scn"
    assert main(["sample", str(path), "-n", "20000", "--seed", "1", "--scope", "build", "--format", "json"]) == 0
    q = json.loads(capsys.readouterr().out)["quantities"]
    assert q["box.size[0]"]["min"] >= 0.2 * 0.85 and q["box.size[0]"]["max"] <= 0.2 * 1.15
    assert q["box.size[1]"]["std"] < 1e-12 and q["box.size[2]"]["mean"] == pytest.approx(0.3)
    assert q["finger_pd.kp[0]"]["min"] >= 70 and q["finger_pd.kp[0]"]["max"] <= 140
    # kd follows the square root of kp's scale: their extremes come from the same draws
    assert q["finger_pd.kd[0]"]["min"] == pytest.approx(20 * math.sqrt(q["finger_pd.kp[0]"]["min"] / 100), rel=1e-9)
    assert "box_joint.x" not in q  # per-episode draws are not in the build scope


# ---- noise ----------------------------------------------------------------------------------

def test_per_step_observation_noise() -> None:
    text = SCENARIO.replace("reward {", "randomize per step { s.noise ~ normal(0, 0.01) }\nreward {")
    noisy = make_env(scenario_dsl.loads(text, "noisy.scn"))
    clean = make_env(scenario_dsl.loads(SCENARIO, "dists.scn"))
    differences = []
    for seed in range(3):
        a, _ = noisy.reset(seed=seed)
        b, _ = clean.reset(seed=seed)
        differences.append(a - b)
        for _ in range(100):
            action = np.zeros(1, dtype=np.float32)
            differences.append(noisy.step(action)[0] - clean.step(action)[0])
    d = np.asarray(differences, dtype=float)
    assert d.std() == pytest.approx(0.01, rel=0.1)
    assert ks_pvalue(d.ravel(), lambda x: _phi(x / 0.01)) > 1e-3
    assert np.array_equal(noisy.reset(seed=4)[0], noisy.reset(seed=4)[0])  # noise follows the seed


# ---- the sampler on its own (hypothesis) ----------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(lo=finite, width=st.floats(1e-3, 1e3), seed=st.integers(0, 2**32 - 1))
def test_uniform_stays_in_range(lo: float, width: float, seed: int) -> None:
    dist = m.Distribution(family="uniform", params={"low": lo, "high": lo + width})
    x = draw(dist, np.random.default_rng(seed), 200)
    assert x.shape == (200, 1) and (x >= lo).all() and (x <= lo + width).all()


@settings(max_examples=80, deadline=None)
@given(a=st.floats(-8, 8), width=st.floats(1e-4, 10), seed=st.integers(0, 2**32 - 1))
def test_truncated_normal_stays_in_bounds(a: float, width: float, seed: int) -> None:
    x = truncated_standard_normal(np.random.default_rng(seed), 300, a, a + width)
    assert (x >= a).all() and (x <= a + width).all()


@settings(max_examples=30, deadline=None)
@given(a=st.floats(-6, 6), width=st.floats(0.05, 6))
def test_truncated_normal_matches_its_cdf(a: float, width: float) -> None:
    b = a + width
    x = truncated_standard_normal(np.random.default_rng(0), 4000, a, b)
    lo, hi = _phi(a), _phi(b)
    if hi - lo < 1e-12:  # deep in a tail, the CDF needs more precision than erf gives
        return
    assert ks_pvalue(x, lambda t: (_phi(t) - lo) / (hi - lo)) > 1e-4


@pytest.mark.parametrize(("a", "b"), [(-0.5, 1.4), (-0.9, 1.05), (-1.4, 0.5), (-0.01, 1.9)])
def test_truncated_normal_straddling_zero_draws_both_sides(a: float, b: float) -> None:
    # [a, b] holds 0, is narrower than 2 standard deviations and reaches past 1: the exponential
    # tail proposal (x >= 0 only) would never draw the negative part.
    x = truncated_standard_normal(np.random.default_rng(0), 4000, a, b)
    lo, hi = _phi(a), _phi(b)
    assert ks_pvalue(x, lambda t: (_phi(t) - lo) / (hi - lo)) > 1e-4


@settings(max_examples=60, deadline=None)
@given(lo=st.integers(-50, 50), span=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_integers_are_whole_and_inclusive(lo: int, span: int, seed: int) -> None:
    dist = m.Distribution(family="integers", params={"low": float(lo), "high": float(lo + span)})
    x = draw(dist, np.random.default_rng(seed), 500)
    assert (x == np.round(x)).all() and x.min() >= lo and x.max() <= lo + span
    if span <= 3:
        assert set(np.unique(x)) == set(range(lo, lo + span + 1))


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.floats(0, 10), min_size=1, max_size=6).filter(lambda w: sum(w) > 1e-3),
       seed=st.integers(0, 2**32 - 1))
def test_choice_draws_only_weighted_values(weights: list[float], seed: int) -> None:
    values = [float(10 * i) for i in range(len(weights))]
    dist = m.Distribution(family="choice", params={"values": values, "weights": weights})
    x = draw(dist, np.random.default_rng(seed), 300)
    allowed = {v for v, w in zip(values, weights, strict=True) if w > 0}
    assert set(np.unique(x)) <= allowed


@settings(max_examples=50, deadline=None)
@given(p=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_bernoulli_is_zero_or_one(p: float, seed: int) -> None:
    x = draw(m.Distribution(family="bernoulli", params={"p": p}), np.random.default_rng(seed), 400)
    assert set(np.unique(x)) <= {0.0, 1.0}
    if p == 0:
        assert not x.any()
    if p == 1:
        assert x.all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_rotations_agree_with_drake(seed: int) -> None:
    from pydrake.common.eigen_geometry import Quaternion
    from pydrake.math import RollPitchYaw

    q = uniform_quaternions(np.random.default_rng(seed), 5)
    rpy = quaternion_to_rpy(q)
    for qi, ri in zip(q, rpy, strict=True):
        assert RollPitchYaw(Quaternion(qi)).vector() == pytest.approx(ri, abs=1e-9)
        back = rpy_to_quaternion(ri[None, :])[0]
        drake = RollPitchYaw(ri).ToQuaternion().wxyz()
        assert abs(abs(np.dot(back, drake)) - 1) < 1e-9
        assert abs(abs(np.dot(back, qi)) - 1) < 1e-9


@settings(max_examples=30, deadline=None)
@given(limit=st.floats(0.05, 0.95), n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_sampler_never_returns_a_rejected_draw(limit: float, n: int, seed: int) -> None:
    scenario = scenario_dsl.loads(REQUIRE.replace("LIMIT", repr(limit)), "req.scn")
    samples = Sampler(scenario).sample(n, np.random.default_rng(seed))
    assert samples.values["k"].shape == (n, 1) and (samples.values["k"] > limit).all()
    again = Sampler(scenario).sample(n, np.random.default_rng(seed))
    assert all(np.array_equal(samples.values[k], again.values[k]) for k in samples.values)


# ---- bad input is a lint-time diagnostic ----------------------------------------------------

@pytest.mark.parametrize("draw_text", [
    "rod.mass ~ uniform(2, 1) kg",          # lo >= hi
    "hinge.q ~ normal(0, 0)",               # std <= 0
    "hinge.q ~ normal(0, -1)",
    "hinge.q ~ truncnormal(0, 1, 1, 1)",
    "hinge.q ~ loguniform(0, 1)",           # log of 0
    "hinge.q ~ choice([1, 2], [1])",        # weights do not match
    "hinge.q ~ choice([1, 2], [0, 0])",     # weights sum to 0
    "hinge.q ~ choice([1, 2], [-1, 2])",
    "hinge.q ~ bernoulli(1.5)",             # p outside [0, 1]
    "hinge.q ~ bernoulli(-0.1)",
    "rod.mass ~ normal(1, 0.1) kg",         # a mass that can go negative
    "rod.mass *~ uniform(-1, 2)",
    "rod.friction ~ uniform(-0.1, 0.5)",
    "hinge.q ~ integers(0.5, 3)",
])
def test_bad_distribution_is_a_lint_error_with_a_span(draw_text: str) -> None:
    text = SCENARIO.replace("    hinge.q ~ normal(0.5, 0.2)\n", f"    {draw_text}\n")
    with pytest.raises(ScenarioError) as caught:
        scenario_dsl.loads(text, "bad.scn")
    diagnostics = [d for d in caught.value.diagnostics if d.code == "SCN405"]
    assert diagnostics, [str(d) for d in caught.value.diagnostics]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if draw_text in t)
    assert diagnostics[0].span is not None and diagnostics[0].span.line == line


PUSH = """
scenario pushy
body ball { shape = sphere(5 cm); mass = 2 kg }
body rod { shape = box(0.1, 0.1, 0.5); mass = 1 kg }
joint hinge: revolute(world -> rod, axis = [0, 0, 1]) { actuated }
action torque = hinge.effort in [-1, 1]
observation v = ball.velocity
randomize { ball.position ~ [1, 0, 1] m }  # away from the rod: nothing to hit
randomize per step {
    let hit ~ bernoulli(0.5)
    ball.push ~ (hit * [1, 0, 19.62]) N
}
reward { -hinge.q^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


def test_per_step_pushes_move_the_body() -> None:
    """A push drawn for a step is the force the plant applies during that step: the ball's
    velocity changes by (F/m + g) dt, so a hit step hovers and drifts in x, a quiet step falls
    (a difference of 0.49 m/s per step, against a slack of 0.01)."""
    env = make_env(scenario_dsl.loads(PUSH, "push.scn"))
    before, _ = env.reset(seed=2)
    hits = 0
    for _ in range(12):
        after = env.step(np.zeros(1, dtype=np.float32))[0].astype(float)
        force = env.compiled.randomizer.noise["ball.push"]
        acceleration = force / 2.0 + np.array([0, 0, -9.81])
        # within one plant update (1 ms): the env step's boundary may fall on either side of one
        slack = 0.001 * (np.abs(force) / 2.0 + np.array([0, 0, 9.81])) + 1e-4
        assert np.all(np.abs(after - before - acceleration * 0.05) <= slack), (after - before, acceleration)
        hits += bool(force.any())
        before = after
    assert 0 < hits < 12


def test_a_push_ends_with_its_step_and_its_episode() -> None:
    """A step without a push after one with a push applies no force, and a reset after a pushed
    step starts without one (the env skips re-fixing an empty push input, never a stale force)."""
    env = make_env(scenario_dsl.loads(PUSH, "push.scn"))
    plant = env.compiled.plant
    port = plant.get_applied_spatial_force_input_port()

    def applied() -> list:
        return list(port.Eval(plant.GetMyContextFromRoot(env.simulator.get_context())))

    seen = set()
    env.reset(seed=5)
    for _ in range(200):
        pushed = bool(env.compiled.randomizer.noise["ball.push"].any())
        assert len(applied()) == int(pushed)
        seen.add(pushed)
        if pushed and len(seen) == 2:
            env.reset()  # right after a pushed step's draw
            pushed_now = bool(env.compiled.randomizer.noise["ball.push"].any())
            assert len(applied()) == int(pushed_now)
        env.step(np.zeros(1, dtype=np.float32))
    assert seen == {True, False}


def test_the_episode_generator_is_seeded_by_two_drake_draws() -> None:
    """`episode_rng` seeds NumPy with the next two numbers of Drake's generator, as
    `default_rng([first, second])` would: recorded episodes replay across scn versions."""
    from pydrake.common import RandomGenerator

    from scenario_dsl.compiler.randomize import episode_rng

    for seed in (0, 1, 2**31 + 5):
        mine, reference = RandomGenerator(seed), RandomGenerator(seed)
        drawn = episode_rng(mine).random(8)
        assert np.array_equal(drawn, np.random.default_rng([reference(), reference()]).random(8))
        assert mine() == reference()  # both took exactly two numbers


def test_friction_draws_keep_the_other_contact_properties() -> None:
    """Resets leave the SceneGraph's context alone and a friction draw replaces only the friction:
    after many episodes every other proximity property of a compliant box is the model's."""
    text = (Path(__file__).resolve().parents[2] / "scenarios" / "box_flipup.scn").read_text()
    text += "\nrandomize { box.friction ~ uniform(0.4, 1.2) }\n"
    folder = Path(__file__).resolve().parents[2] / "scenarios"
    env = make_env(scenario_dsl.loads(text, "friction.scn", base_dir=folder))
    plant, scene_graph = env.compiled.plant, env.compiled.scene_graph
    (geometry,) = plant.GetCollisionGeometriesForBody(plant.GetBodyByName("box"))

    floats = [("hydroelastic", "hydroelastic_modulus"), ("hydroelastic", "resolution_hint"),
              ("material", "point_contact_stiffness"), ("material", "hunt_crossley_dissipation"),
              ("material", "relaxation_time")]

    def properties() -> tuple[set, dict, float]:
        """The property names, the numeric ones' values, and the dynamic friction, in the context."""
        sg_context = scene_graph.GetMyContextFromRoot(env.simulator.get_context())
        props = scene_graph.get_query_output_port().Eval(sg_context).inspector().GetProximityProperties(geometry)
        names = {(group, name) for group in props.GetGroupNames() for name in props.GetPropertiesInGroup(group)}
        values = {key: props.GetProperty(*key) for key in floats if props.HasProperty(*key)}
        return names, values, props.GetProperty("material", "coulomb_friction").dynamic_friction()

    env.reset(seed=1)
    first_names, first_values, _ = properties()
    assert len(first_values) >= 4  # the compliant box's modulus, resolution, stiffness, dissipation
    frictions = set()
    for _ in range(5):
        _, info = env.reset()
        names, values, friction = properties()
        assert friction == pytest.approx(info["randomization"]["box.friction"], rel=1e-12)
        assert names == first_names and values == first_values
        frictions.add(friction)
    assert len(frictions) == 5


def test_an_action_delay_applies_the_command_of_k_steps_ago() -> None:
    """`torque.delay ~ 100 ms` on 50 ms steps: the delayed env fed a0, a1, ... moves exactly as
    the plain env fed the neutral action twice, then a0, a1, ... (same seed, same start)."""
    folder = Path(__file__).resolve().parents[2] / "scenarios"
    text = (folder / "pendulum.scn").read_text()
    plain = make_env(scenario_dsl.loads(text, "plain.scn", base_dir=folder))
    delayed = make_env(scenario_dsl.loads(text + "\nrandomize { torque.delay ~ 100 ms }\n", "delayed.scn",
                                          base_dir=folder))
    first, info = delayed.reset(seed=4)
    assert info["randomization"]["torque.delay"] == pytest.approx(0.1)
    assert np.array_equal(first, plain.reset(seed=4)[0])
    actions = np.random.default_rng(0).uniform(-1, 1, (12, 1)).astype(np.float32)
    neutral = np.zeros((2, 1), dtype=np.float32)
    for a, b in zip(actions, np.concatenate([neutral, actions]), strict=False):
        assert np.array_equal(delayed.step(a)[0], plain.step(b)[0])
    delayed.reset(seed=4)  # a new episode starts with nothing in flight: the neutral action first
    plain.reset(seed=4)
    assert np.array_equal(delayed.step(actions[5])[0], plain.step(neutral[0])[0])


@pytest.mark.parametrize(("block", "code"), [("randomize per step { torque.delay ~ uniform(0, 0.1) s }", "SCN204"),
                                             ("randomize { torque.delay ~ normal(0.05, 0.01) s }", "SCN405"),
                                             ("randomize { torque.delay ~ uniform(0, 2) m }", "SCN302")])
def test_a_bad_action_delay_is_a_lint_error(block: str, code: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "scenarios" / "pendulum.scn").read_text()
    analysis = scenario_dsl.lang.loader.analyze_text(text + "\n" + block + "\n", "p.scn")
    assert code in [d.code for d in analysis.diagnostics]


def test_a_delay_longer_than_the_episode_holds_the_neutral_action() -> None:
    """A delay past the time limit keeps at most one episode of commands in flight."""
    folder = Path(__file__).resolve().parents[2] / "scenarios"
    text = (folder / "pendulum.scn").read_text() + "\nrandomize { torque.delay ~ 1e9 s }\n"
    env = make_env(scenario_dsl.loads(text, "late.scn", base_dir=folder))
    env.reset(seed=0)
    assert env._delayed is not None and len(env._delayed) == env.max_steps
