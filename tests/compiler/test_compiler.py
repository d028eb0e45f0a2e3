"""The compiler against real Drake: what each declaration becomes, and what each signal reads."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from pydrake.common import RandomGenerator
from pydrake.multibody.tree import SpatialInertia
from scn_fixtures import BUNDLED, box_flipup_scenario, pendulum_scenario, sig

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario
from scenario_dsl.compiler import plant as plant_stage
from scenario_dsl.compiler.signals import inline
from scenario_dsl.lang import model as m
from scenario_dsl.lang.loader import analyze_text

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

ZOO = """
scenario zoo "every shape, joint and signal"
plant { time_step = 2 ms; contact_model = point; gravity = [0, 0, -9.8] m/s^2 }
body base { shape = box(0.3, 0.2, 0.1); mass = 2 kg; color = [0.2, 0.2, 0.2, 1] }
weld world -> base at (translation = [0, 0, 0.05] m)
body arm { shape = cylinder(0.02, 0.4); mass = 0.5 kg; friction = [0.8, 0.6]; hydroelastic = rigid }
joint shoulder: revolute(base -> arm, axis = [0, 1, 0]) {
    limits = [-90 deg, 90 deg]; damping = 0.1; initial = 10 deg; initial_velocity = 0.5
    actuated { effort_limit = 5 N*m }
}
body slider { shape = capsule(0.02, 0.1); mass = 0.3 kg; point_stiffness = 1e5; hunt_crossley_dissipation = 5 }
joint slide: prismatic(arm -> slider, axis = [0, 0, 1]) { limits = [-0.1, 0.1]; actuated }
body egg { shape = ellipsoid(0.03, 0.02, 0.01); mass = 0.1 kg; hydroelastic_modulus = 1e6; resolution_hint = 5 mm }
joint knuckle: ball(slider -> egg)
body ring { shape = sphere(0.02); mass = 0.1 kg; hydroelastic = none }
joint wrist: universal(egg -> ring)
body puck { shape = box(0.05, 0.05, 0.02); mass = 0.2 kg; initial_position = [0.5, 0, 0.3] m }
body disk { shape = sphere(1 cm); mass = 0.1 kg; inertia = [1e-5, 2e-5, 3e-5] }
joint free_disk: free(world -> disk)
body flat { shape = box(0.1, 0.1, 0.1); mass = 1 kg }
frame tilted on world at (translation = [1, 0, 0], rotation = rpy(90 deg, 0, 0))
joint flat_joint: planar(tilted -> flat) { initial = [0.1, 0.2, 0.3] }
controller hold: pd(shoulder, slide) { kp = [10, 20]; kd = 1 }
action target = hold.desired_position in [[-1, -0.1], [1, 0.1]]
observation q = plant.q
observation v = plant.v
observation pose = [puck.position, puck.rpy, puck.quaternion, puck.velocity, puck.angular_velocity,
                    puck.x, puck.y, puck.z]
observation parts = [shoulder.q, shoulder.v,
                     flat_joint.x, flat_joint.y, flat_joint.theta, flat_joint.vx, flat_joint.vy, flat_joint.omega,
                     free_disk.position, free_disk.quaternion, free_disk.velocity, free_disk.angular_velocity,
                     knuckle.q, wrist.v, hold.q, hold.v, target, time, m]
randomize {
    let m ~ normal(1, 0.1)
    puck.mass *~ uniform(0.5, 2)
    shoulder.q +~ uniform(-0.1, 0.1)
    require m > 0.9 "m too small"
}
reward { -|hold.q - target|^2 as track }
episode { step = 20 ms; time_limit = 1 s; terminate when time > 0.5 s "half a second" }
"""


@pytest.fixture(scope="module")
def zoo():
    return compile_scenario(scenario_dsl.loads(ZOO))


def _started(compiled, seed: int = 0, steps: int = 3, action=(0.3, -0.5)):
    """A simulator after a reset and a few steps (so that velocities are not zero)."""
    simulator = compiled.build_simulator(RandomGenerator(seed))
    context = simulator.get_mutable_context()
    compiled.diagram.GetInputPort("action").FixValue(context, np.asarray(action, dtype=float))
    simulator.Initialize()
    simulator.AdvanceTo(steps * compiled.scenario.episode.step)
    return simulator, context


# ---- the plant ------------------------------------------------------------------------------

def test_plant_config_uses_drakes_names() -> None:
    config = plant_stage.plant_config(m.PlantSettings(time_step=0.002, contact_model="point",
                                                      discrete_contact_approximation="sap",
                                                      penetration_allowance=0.01, stiction_tolerance=1e-4))
    assert (config.time_step, config.contact_model, config.discrete_contact_approximation) == (0.002, "point", "sap")
    assert (config.penetration_allowance, config.stiction_tolerance) == (0.01, 1e-4)
    assert {"lagged", "sap", "similar"} <= set(plant_stage.discrete_contact_approximations())


def test_an_approximation_the_installed_drake_lacks_names_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plant_stage, "discrete_contact_approximations", lambda: ["lagged", "sap", "similar"])
    with pytest.raises(CompileError) as error:
        plant_stage.plant_config(m.PlantSettings(discrete_contact_approximation="tamsi"))
    assert error.value.code == "SCN505"
    assert "tamsi" in str(error.value) and "lagged, sap, similar" in str(error.value)


def test_gravity_and_time_step(zoo) -> None:
    assert zoo.plant.time_step() == 0.002
    np.testing.assert_array_equal(zoo.plant.gravity_field().gravity_vector(), [0, 0, -9.8])


def test_drake_models_urls_are_refused_without_trying_the_network() -> None:
    scenario = pendulum_scenario().model_copy(update={"models": [
        m.Model(name="pendulum", url="package://drake_models/iiwa_description/urdf/iiwa14.urdf")]})
    with pytest.raises(CompileError) as error:
        compile_scenario(scenario)
    assert error.value.code == "SCN502" and "no network" in str(error.value)


def test_a_missing_model_file_is_reported_with_where_it_was_looked_for(tmp_path: Path) -> None:
    scenario = pendulum_scenario().model_copy(update={"models": [
        m.Model(name="pendulum", url="robot.urdf", base_dir=str(tmp_path))]})
    with pytest.raises(CompileError) as error:
        compile_scenario(scenario)
    assert error.value.code == "SCN501" and str(tmp_path) in str(error.value)
    assert [d.code for d in error.value.diagnostics] == ["SCN501"]


def test_primitive_inertia_is_the_solid_shapes(zoo) -> None:
    plant = zoo.plant
    context = plant.CreateDefaultContext()

    def inertia(name: str) -> np.ndarray:
        return plant.GetBodyByName(name).CalcSpatialInertiaInBodyFrame(context).CopyToFullMatrix6()

    expected = {
        "base": SpatialInertia.SolidBoxWithMass(2, 0.3, 0.2, 0.1),
        "arm": SpatialInertia.SolidCylinderWithMass(0.5, 0.02, 0.4, [0, 0, 1]),
        "slider": SpatialInertia.SolidCapsuleWithMass(0.3, 0.02, 0.1, [0, 0, 1]),
        "egg": SpatialInertia.SolidEllipsoidWithMass(0.1, 0.03, 0.02, 0.01),
        "ring": SpatialInertia.SolidSphereWithMass(0.1, 0.02),
    }
    for name, spatial in expected.items():
        np.testing.assert_allclose(inertia(name), spatial.CopyToFullMatrix6(), atol=1e-15, err_msg=name)
    np.testing.assert_allclose(np.diag(inertia("disk"))[:3], [1e-5, 2e-5, 3e-5])


def _proximity(compiled, body: str):
    inspector = compiled.scene_graph.model_inspector()
    (geometry,) = compiled.plant.GetCollisionGeometriesForBody(compiled.plant.GetBodyByName(body))
    return inspector.GetProximityProperties(geometry)


def test_contact_defaults_are_manipulation_AddShapes(zoo) -> None:
    props = _proximity(zoo, "base")
    assert props.GetProperty("material", "hunt_crossley_dissipation") == 1e4
    assert props.GetProperty("material", "point_contact_stiffness") == 1e7
    friction = props.GetProperty("material", "coulomb_friction")
    assert (friction.static_friction(), friction.dynamic_friction()) == (1.0, 1.0)
    assert props.GetProperty("hydroelastic", "hydroelastic_modulus") == 1e8
    assert props.GetProperty("hydroelastic", "resolution_hint") == 0.01


def test_declared_contact_properties(zoo) -> None:
    friction = _proximity(zoo, "arm").GetProperty("material", "coulomb_friction")
    assert (friction.static_friction(), friction.dynamic_friction()) == (0.8, 0.6)
    assert not _proximity(zoo, "arm").HasProperty("hydroelastic", "hydroelastic_modulus")  # rigid
    slider = _proximity(zoo, "slider")
    assert slider.GetProperty("material", "point_contact_stiffness") == 1e5
    assert slider.GetProperty("material", "hunt_crossley_dissipation") == 5
    egg = _proximity(zoo, "egg")
    assert egg.GetProperty("hydroelastic", "hydroelastic_modulus") == 1e6
    assert egg.GetProperty("hydroelastic", "resolution_hint") == pytest.approx(0.005)
    assert not _proximity(zoo, "ring").HasGroup("hydroelastic")


def test_joints_become_drakes_joints_with_limits_damping_and_initial_state(zoo) -> None:
    plant = zoo.plant
    kinds = {name: plant.GetJointByName(name).type_name() for name in
             ("shoulder", "slide", "knuckle", "wrist", "free_disk", "flat_joint")}
    assert kinds == {"shoulder": "revolute", "slide": "prismatic", "knuckle": "ball_rpy", "wrist": "universal",
                     "free_disk": "quaternion_floating", "flat_joint": "planar"}
    shoulder = plant.GetJointByName("shoulder")
    np.testing.assert_allclose(shoulder.position_lower_limits(), [-math.pi / 2])
    np.testing.assert_allclose(shoulder.position_upper_limits(), [math.pi / 2])
    assert shoulder.default_damping() == 0.1
    assert shoulder.get_default_angle() == pytest.approx(math.radians(10))
    np.testing.assert_allclose(plant.GetJointByName("flat_joint").default_positions(), [0.1, 0.2, 0.3])
    actuator = plant.GetJointActuatorByName("shoulder")
    assert actuator.effort_limit() == 5.0
    assert math.isinf(plant.GetJointActuatorByName("slide").effort_limit())


def test_free_bodies_start_at_their_initial_position(zoo) -> None:
    simulator = zoo.build_simulator(RandomGenerator(0))
    plant = zoo.plant
    pose = plant.EvalBodyPoseInWorld(plant.GetMyContextFromRoot(simulator.get_context()), plant.GetBodyByName("puck"))
    np.testing.assert_allclose(pose.translation(), [0.5, 0, 0.3])


def test_initial_velocity_is_set_at_reset(zoo) -> None:
    simulator = zoo.build_simulator(RandomGenerator(0))
    plant_context = zoo.plant.GetMyContextFromRoot(simulator.get_context())
    assert zoo.plant.GetJointByName("shoulder").get_angular_rate(plant_context) == 0.5


def test_systems_are_named_after_the_declarations(zoo) -> None:
    names = {s.get_name() for s in zoo.diagram.GetSystems()}
    assert {"plant", "scene_graph", "hold", "target", "observation", "reward", "episode", "requirements"} <= names
    assert zoo.diagram.get_name() == "zoo"
    assert "hold" in zoo.diagram.GetGraphvizString(max_depth=1)
    ports = [zoo.diagram.get_output_port(i).get_name() for i in range(zoo.diagram.num_output_ports())]
    assert ports == ["observation", "reward", "reward_terms", "termination", "requirements", "outcome"]


def test_the_outcome_port_holds_each_part_of_a_step(zoo) -> None:
    """"outcome" muxes what a step reports; each slice equals the port or plant state it comes from."""
    _, context = _started(zoo)
    outcome = np.asarray(zoo.diagram.GetOutputPort("outcome").Eval(context))
    assert sorted(zoo.outcome) == ["observation", "reward", "reward_terms", "state", "termination"]
    assert sum(p.stop - p.start for p in zoo.outcome.values()) == outcome.size
    for name, part in zoo.outcome.items():
        expected = (zoo.plant.GetPositionsAndVelocities(zoo.plant.GetMyContextFromRoot(context)) if name == "state"
                    else np.asarray(zoo.diagram.GetOutputPort(name).Eval(context)))
        assert np.array_equal(outcome[part], expected), name


# ---- signals --------------------------------------------------------------------------------

def test_every_signal_reads_what_drake_says(zoo) -> None:
    _, context = _started(zoo)
    plant = zoo.plant
    pc = plant.GetMyContextFromRoot(context)
    observation = zoo.diagram.GetOutputPort("observation").Eval(context)
    nq, nv = plant.num_positions(), plant.num_velocities()
    q, v, pose, parts = np.split(observation, np.cumsum([nq, nv, 3 + 3 + 4 + 3 + 3 + 3]))
    np.testing.assert_array_equal(q, plant.GetPositions(pc))
    np.testing.assert_array_equal(v, plant.GetVelocities(pc))

    puck = plant.GetBodyByName("puck")
    X = plant.EvalBodyPoseInWorld(pc, puck)
    V = plant.EvalBodySpatialVelocityInWorld(pc, puck)
    from pydrake.math import RollPitchYaw

    expected_pose = np.concatenate([X.translation(), RollPitchYaw(X.rotation()).vector(),
                                    X.rotation().ToQuaternion().wxyz(), V.translational(), V.rotational(),
                                    X.translation()])
    np.testing.assert_allclose(pose, expected_pose, atol=1e-12)
    assert np.linalg.norm(V.translational()) > 0.1  # the puck is falling: velocities are really read

    j = plant.GetJointByName
    flat, disk = j("flat_joint"), j("free_disk")
    expected_parts = np.concatenate([
        [j("shoulder").get_angle(pc), j("shoulder").get_angular_rate(pc)],
        flat.get_translation(pc), [flat.get_rotation(pc)], flat.get_translational_velocity(pc),
        [flat.get_angular_velocity(pc)],
        disk.get_translation(pc), disk.get_quaternion(pc).wxyz(), disk.get_translational_velocity(pc),
        disk.get_angular_velocity(pc),
        j("knuckle").get_angles(pc), j("wrist").get_angular_rates(pc),
        [j("shoulder").get_angle(pc), j("slide").get_translation(pc)],
        [j("shoulder").get_angular_rate(pc), j("slide").get_translation_rate(pc)],
        zoo.to_physical(np.array([0.3, -0.5])),
        [context.get_time()],
    ])
    np.testing.assert_allclose(parts[:-1], expected_parts, atol=1e-12)
    assert parts[-1] > 0.9  # m ~ normal(1, 0.1), required > 0.9


def test_observations_read_earlier_observations_and_parameters() -> None:
    observations = {"a": sig("joint", "j", "q")}
    expr = m.Apply(fn="add", args=[sig("observation", "a", "value"), sig("param", "k", "value")])
    inlined = inline(expr, observations, {"k": 2.0})
    assert inlined.args == [sig("joint", "j", "q"), m.Const(value=2.0)]  # type: ignore[union-attr]
    with pytest.raises(CompileError):
        inline(sig("param", "missing", "value"), {}, {})


# ---- controllers and actuation --------------------------------------------------------------

def test_pd_controller_holds_the_commanded_angle() -> None:
    compiled = compile_scenario(pendulum_scenario(kp=50.0, time_step=0.001))
    assert compiled.systems["hold"].get_name() == "hold"
    simulator = compiled.build_simulator(RandomGenerator(1))
    context = simulator.get_mutable_context()
    compiled.diagram.GetInputPort("action").FixValue(context, [0.25])  # normalized: pi/4
    simulator.Initialize()
    simulator.AdvanceTo(20.0)
    joint = compiled.plant.GetJointByName("theta")
    angle = joint.get_angle(compiled.plant.GetMyContextFromRoot(context))
    assert abs(math.remainder(angle - math.pi / 4, 2 * math.pi)) < 0.3  # P control under gravity: an offset


@pytest.mark.parametrize("target", ["pendulum.theta.effort", "plant.actuation"])
def test_direct_actuation_reaches_the_plant(target: str) -> None:
    scenario = pendulum_scenario()
    compiled = compile_scenario(scenario.model_copy(update={"action": scenario.action.model_copy(
        update={"target": target})}))
    simulator = compiled.build_simulator(RandomGenerator(0))
    context = simulator.get_mutable_context()
    compiled.diagram.GetInputPort("action").FixValue(context, [0.5])  # normalized: 1 N*m
    simulator.Initialize()
    simulator.AdvanceTo(0.01)
    net = compiled.plant.get_net_actuation_output_port().Eval(compiled.plant.GetMyContextFromRoot(context))
    np.testing.assert_allclose(net, [1.0])


def test_inverse_dynamics_joint_order_is_the_controllers_not_the_plants() -> None:
    """The same controller with its joints listed the other way round moves the finger the same way."""
    base = box_flipup_scenario()
    reversed_controller = base.controllers[0].model_copy(update={"joints": ["finger_z", "finger_x"]})
    flipped = base.model_copy(update={
        "controllers": [reversed_controller],
        "action": base.action.model_copy(update={"lower": [-0.1, -0.5], "upper": [0.6, 0.5]}),
        "reward": base.reward[:1]})
    finals = []
    for scenario, action in ((base, [0.4, -0.2]), (flipped, [-0.2, 0.4])):
        compiled = compile_scenario(scenario)
        _, context = _started(compiled, steps=2, action=action)
        finals.append(compiled.plant.GetPositionsAndVelocities(compiled.plant.GetMyContextFromRoot(context)))
    np.testing.assert_allclose(finals[0], finals[1], atol=1e-12)
    assert 0.05 < finals[0][3] < 0.25  # the finger is on its way to x = 0.2


def test_inverse_dynamics_over_a_loaded_model_compensates_gravity() -> None:
    scenario = pendulum_scenario(kp=50.0)
    controller = scenario.controllers[0].model_copy(update={"type": "inverse_dynamics", "kd": [10.0]})
    compiled = compile_scenario(scenario.model_copy(update={"controllers": [controller]}))
    _, context = _started(compiled, steps=40, action=[0.5])  # normalized: pi/2, the rod horizontal
    angle = compiled.plant.GetJointByName("theta").get_angle(compiled.plant.GetMyContextFromRoot(context))
    assert abs(math.remainder(angle - math.pi / 2, 2 * math.pi)) < 1e-3  # no steady-state offset


def test_controller_plant_holds_only_the_controlled_chain() -> None:
    sub = plant_stage.controller_scenario(box_flipup_scenario(), box_flipup_scenario().controllers[0])
    assert [b.name for b in sub.bodies] == ["carriage", "finger"]
    assert [j.name for j in sub.joints] == ["finger_x", "finger_z"]
    assert sub.models == []


def test_a_controller_over_joints_hanging_from_an_uncontrolled_one_is_refused() -> None:
    base = box_flipup_scenario()
    controller = base.controllers[0].model_copy(update={"joints": ["finger_z"], "kp": [1.0], "ki": [0.0],
                                                        "kd": [1.0]})
    scenario = base.model_copy(update={"controllers": [controller], "action": base.action.model_copy(
        update={"size": 1, "lower": [0.0], "upper": [0.5]}), "reward": base.reward[:1]})
    with pytest.raises(CompileError) as error:
        compile_scenario(scenario)
    assert error.value.code == "SCN504" and "finger_x" in str(error.value)


def test_effort_limits_clamp_the_actuation(zoo) -> None:
    _, context = _started(zoo, action=(1.0, 0.0), steps=1)
    net = zoo.plant.get_net_actuation_output_port().Eval(zoo.plant.GetMyContextFromRoot(context))
    assert abs(net[0]) <= 5.0


# ---- randomization --------------------------------------------------------------------------

def test_draws_are_relative_to_the_nominal_value_and_never_compound(zoo) -> None:
    generator = RandomGenerator(3)
    simulator = zoo.build_simulator(generator)
    context = simulator.get_mutable_context()
    puck = zoo.plant.GetBodyByName("puck")
    for _ in range(30):
        drawn = zoo.reset_context(context, generator)
        mass = puck.get_mass(zoo.plant.GetMyContextFromRoot(context))
        assert 0.1 <= mass <= 0.4 and mass == pytest.approx(drawn["puck.mass"])
        assert drawn["m"] > 0.9  # `require m > 0.9` redraws
        shoulder = zoo.plant.GetJointByName("shoulder").get_angle(zoo.plant.GetMyContextFromRoot(context))
        assert abs(shoulder - math.radians(10)) <= 0.1 + 1e-12


def test_friction_draws_reach_scene_graph() -> None:
    compiled = compile_scenario(scenario_dsl.load(SCENARIOS / "push_box.scn"))
    generator = RandomGenerator(5)
    simulator = compiled.build_simulator(generator)
    context = simulator.get_mutable_context()
    drawn = compiled.reset_context(context, generator)
    inspector = compiled.scene_graph.GetMyContextFromRoot(context)
    box = compiled.plant.GetBodyByName("box")
    (geometry,) = compiled.plant.GetCollisionGeometriesForBody(box)
    query = compiled.scene_graph.get_query_output_port().Eval(inspector)
    friction = query.inspector().GetProximityProperties(geometry).GetProperty("material", "coulomb_friction")
    assert friction.dynamic_friction() == pytest.approx(drawn["box.friction"])
    assert 0.3 <= drawn["box.friction"] <= 0.8
    assert -math.radians(30) <= drawn["box.yaw"] <= math.radians(30)


def test_unsupported_targets_fail_at_compile_time_with_a_clear_message() -> None:
    scenario = pendulum_scenario().model_copy(update={"randomizations": [m.Randomization(draws=[
        m.Draw(target="plant.gravity", operation="set", value=m.Distribution(family="uniform",
                                                                             params={"low": -10, "high": -9}))])]})
    with pytest.raises(CompileError) as error:
        compile_scenario(scenario)
    assert error.value.code == "SCN505" and "plant.gravity" in str(error.value)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_scenario_compiles(path: Path) -> None:
    compiled = compile_scenario(scenario_dsl.load(path))
    _, context = _started(compiled, action=np.zeros(compiled.action_size), steps=1)
    observation = compiled.diagram.GetOutputPort("observation").Eval(context)
    assert observation.shape == (compiled.observation_size,) and np.all(np.isfinite(observation))


@pytest.mark.parametrize("name", ["outcome", "signals", "reward_sum", "observation", "scene_graph"])
def test_an_action_named_like_a_compiler_system_is_a_lint_error(name: str) -> None:
    """Drake aborts the whole process on two systems of one name: the validator refuses the name."""
    text = re.sub(r"\btorque\b", name, (SCENARIOS / "pendulum.scn").read_text())
    analysis = analyze_text(text, str(SCENARIOS / "pendulum.scn"))
    assert [d.code for d in analysis.diagnostics] == ["SCN202"]
    assert analysis.diagnostics[0].span is not None and analysis.diagnostics[0].span.text == name


def test_a_name_clash_the_validator_cannot_see_is_a_compile_error() -> None:
    """A controller's helper system (`C_desired_state`) and an action of that name: SCN506, no abort."""
    text = """
scenario clash
body rod { mass = 1 kg; inertia = [1, 1, 1] }
joint hinge: revolute(world -> rod, axis = [0, 1, 0]) { actuated }
controller c: pd(hinge) { kp = 1; kd = 1 }
action c_desired_state = c.desired_position in [-1, 1]
observation obs = [hinge.q]
reward { -hinge.q^2 as cost }
episode { step = 10 ms }
"""
    with pytest.raises(CompileError) as failure:
        compile_scenario(scenario_dsl.loads(text, "clash.scn"))
    assert failure.value.code == "SCN506" and "c_desired_state" in failure.value.message
