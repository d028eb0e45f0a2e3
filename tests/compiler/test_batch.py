"""`compile_batch`: N worlds of one scenario in one MultibodyPlant and one diagram (issue 13) —
names, collision filters between the worlds, each world's actions, observations and conditions
in its own rows, build-scope variants per world, and what is refused (SCN505)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydrake.multibody.tree import BodyIndex, ModelInstanceIndex
from pydrake.systems.analysis import Simulator

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario
from scenario_dsl.compiler.batch import MAX_WORLDS, compile_batch
from scenario_dsl.compiler.rebuild import BuildRandomizer

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _load(name: str) -> scenario_dsl.lang.model.Scenario:
    return scenario_dsl.load(SCENARIOS / f"{name}.scn")


def _instances(plant) -> list[str]:
    return [plant.GetModelInstanceName(ModelInstanceIndex(k)) for k in range(plant.num_model_instances())]


WORLD = re.compile(r"world(\d+)::(.+)")


def _world_of(plant, body) -> tuple[int | None, tuple[str, str]]:
    """The world a body of a batch's plant belongs to, and its (instance, body) names in a single
    env's plant."""
    instance, name = plant.GetModelInstanceName(body.model_instance()), body.name()
    if match := WORLD.fullmatch(instance):  # a loaded model: an instance per world
        return int(match[1]), (match[2], name)
    if match := WORLD.fullmatch(name):  # a declared body: its instance is shared by the worlds
        return int(match[1]), (instance, match[2])
    return None, (instance, name)


def _collision_geometries(plant, world: int | None) -> dict[tuple[str, str, int], object]:
    """World `world`'s collision geometries (None: a single env's plant), keyed by their
    (instance, body, k) in a single env's plant."""
    found = {}
    for index in range(plant.num_bodies()):
        body = plant.get_body(BodyIndex(index))
        owner, key = _world_of(plant, body)
        if owner == world:
            for k, geometry in enumerate(plant.GetCollisionGeometriesForBody(body)):
                found[(*key, k)] = geometry
    return found


def test_names_of_instances_bodies_joints_systems_and_ports() -> None:
    spec = _load("push_box")
    batch = compile_batch(spec, 3)
    single = compile_scenario(spec)
    assert batch.n_worlds == 3 and batch.diagram.get_name() == "push_box[3]"
    # declared bodies: one model instance per body, shared by the worlds; world i's body, joint
    # and actuator take the prefix `world<i>::`
    assert _instances(batch.plant) == _instances(single.plant)
    for name in ("table", "box", "slider", "finger"):
        bodies = [batch.plant.get_body(b).name() for b in batch.plant.GetBodyIndices(
            batch.plant.GetModelInstanceByName(name))]
        assert bodies == [f"world{i}::{name}" for i in range(3)]
    for i in range(3):
        assert batch.plant.HasJointNamed(f"world{i}::finger_x") and batch.plant.HasJointNamed(f"world{i}::finger_y")
        assert batch.plant.HasJointActuatorNamed(f"world{i}::finger_x")
    assert not batch.plant.HasJointNamed("finger_x")
    assert batch.plant.num_multibody_states() == 3 * single.plant.num_multibody_states()
    systems = {s.get_name() for s in batch.diagram.GetSystems()}
    assert {"plant", "scene_graph", "expressions", "world0", "world1", "world2",
            "world0::gather", "world2::gather"} <= systems
    assert batch.diagram.GetSubsystemByName("world1").GetSubsystemByName("finger_pd") is not None
    assert batch.diagram.GetInputPort("action").size() == 3 * 2
    assert batch.diagram.GetOutputPort("outcome").size() == 3 * batch.outcome_size
    assert batch.diagram.GetOutputPort("reward_terms").size() == 3 * len(batch.reward_terms) == 6
    # one world's row is the single env's outcome without the plant state
    assert batch.outcome == {k: v for k, v in single.outcome.items() if k != "state"}
    # each world's rows of the plant state: disjoint, and together all of them
    rows = np.concatenate([w.state_rows for w in batch.worlds])
    assert sorted(rows.tolist()) == list(range(batch.plant.num_multibody_states()))

    # loaded models: an instance per world, `world<i>::<model>`, with the model's own names inside
    cart_pole = compile_batch(_load("cart_pole"), 2).plant
    assert _instances(cart_pole)[2:] == ["world0::cart_pole", "world1::cart_pole"]
    assert cart_pole.HasJointNamed("PolePin", cart_pole.GetModelInstanceByName("world1::cart_pole"))


@pytest.mark.parametrize("name", ["push_box", "box_flipup"])
def test_worlds_are_filtered_from_each_other_and_not_within(name: str) -> None:
    spec = _load(name)
    batch, single = compile_batch(spec, 3), compile_scenario(spec)
    worlds = [_collision_geometries(batch.plant, i) for i in range(3)]
    alone = _collision_geometries(single.plant, None)
    assert not _collision_geometries(batch.plant, None)  # every geometry belongs to a world
    assert all(w.keys() == alone.keys() for w in worlds) and len(alone) >= 3
    mine, theirs = batch.scene_graph.model_inspector(), single.scene_graph.model_inspector()
    keys = sorted(alone)
    unfiltered = 0
    for a in keys:
        for b in keys:
            for i in range(3):
                for j in range(3):
                    filtered = mine.CollisionFiltered(worlds[i][a], worlds[j][b])
                    if i != j:
                        assert filtered, (i, a, j, b)
                    elif a != b:
                        assert filtered == theirs.CollisionFiltered(alone[a], alone[b]), (a, b)
                        unfiltered += not filtered
    assert unfiltered > 0  # e.g. the box and the finger may touch, within a world


def test_a_batch_is_refused_for_no_worlds_too_many_or_a_continuous_plant() -> None:
    spec = _load("pendulum")
    for worlds in (0, -1, MAX_WORLDS + 1):
        with pytest.raises(CompileError, match=f"not {worlds}") as caught:
            compile_batch(spec, worlds)
        assert caught.value.code == "SCN505"
    continuous = spec.model_copy(update={"plant": spec.plant.model_copy(update={"time_step": 0.0})})
    compile_scenario(continuous)  # a single env takes it
    with pytest.raises(CompileError, match="discrete plant") as caught:
        compile_batch(continuous, 2)
    assert caught.value.code == "SCN505" and caught.value.where == spec.plant.where
    with pytest.raises(ValueError, match="1 variants for 2 worlds"):
        compile_batch(spec, 2, variants=[(spec, {})])
    assert compile_batch(spec, 1).n_worlds == 1


def test_each_world_reads_its_own_state_and_takes_its_own_action() -> None:
    """cart_pole: `observation state = plant.state` is the world's 4 numbers, not the whole
    plant's 12; an action and a termination concern one world."""
    batch = compile_batch(_load("cart_pole"), 3)
    assert batch.observation_lower.shape == (4,) and batch.outcome["observation"] == slice(0, 4)
    simulator = Simulator(batch.diagram)
    context = simulator.get_mutable_context()
    plant, plant_context = batch.plant, batch.plant.GetMyMutableContextFromRoot(context)
    x = np.linspace(0.1, 1.2, 12)
    x[batch.worlds[1].state_rows[1]] = np.pi  # world 1's pole upright ...
    x[batch.worlds[2].state_rows[1]] = np.pi + 0.5  # ... world 2's leaning past 0.2 rad
    x[batch.worlds[0].state_rows[1]] = np.pi - 0.1
    x[batch.worlds[0].state_rows[0]] = 3.0  # world 0's cart off the rail
    plant.SetPositionsAndVelocities(plant_context, x)
    batch.diagram.GetInputPort("action").FixValue(context, np.zeros(3))
    rows = np.asarray(batch.diagram.GetOutputPort("outcome").Eval(context)).reshape(3, batch.outcome_size)
    for world in batch.worlds:
        np.testing.assert_array_equal(rows[world.index, batch.outcome["observation"]], x[world.state_rows])
    assert rows[:, batch.outcome["termination"]].tolist() == [[0, 1], [0, 0], [1, 0]]
    assert batch.termination_reasons[0].startswith("pole") and batch.termination_reasons[1].startswith("cart")

    # at rest, hanging down: a push on world 1 alone moves world 1's cart alone
    plant.SetPositionsAndVelocities(plant_context, batch.default_state)
    batch.diagram.GetInputPort("action").FixValue(context, np.array([0.0, 1.0, 0.0]))
    simulator.Initialize()
    simulator.AdvanceTo(0.05)
    velocities = plant.GetPositionsAndVelocities(plant_context)
    carts = [velocities[w.state_rows[2]] for w in batch.worlds]
    assert carts[1] > 0 and carts[0] == 0 and carts[2] == 0


def test_build_variants_give_each_world_its_own_drawn_values() -> None:
    """box_flipup_dr draws the box's width and the finger's gains per build: world i is built
    from variants[i], so its box and its controller's gains are its own."""
    spec = _load("box_flipup_dr")
    draws, rng = BuildRandomizer(spec), np.random.default_rng(0)
    variants = [draws.draw(rng) for _ in range(3)]
    widths = [values["box.size"][0] for _, values in variants]
    assert len(set(widths)) == 3
    batch = compile_batch(spec, 3, variants=variants)
    inspector = batch.scene_graph.model_inspector()
    for world, (_, values) in zip(batch.worlds, variants, strict=True):
        assert world.built == values
        box = batch.plant.GetBodyByName(f"world{world.index}::box")
        shape = inspector.GetShape(batch.plant.GetCollisionGeometriesForBody(box)[0])
        assert [shape.width(), shape.depth(), shape.height()] == pytest.approx(values["box.size"], abs=0)
        pid = batch.diagram.GetSubsystemByName(f"world{world.index}").GetSubsystemByName(
            "finger_pd").GetSubsystemByName("pid")
        np.testing.assert_array_equal(pid.get_Kp_vector(), values["finger_pd.kp"])
        np.testing.assert_array_equal(pid.get_Kd_vector(), values["finger_pd.kd"])
