"""Randomization (issue 4): `scn sample`'s vectorized draws and the cost of a randomized reset.

1. Drawing 100,000 episodes of box_flipup's and box_flipup_dr's randomization with
   `sampling.Sampler` (the draws only: the nominal values come from a compiled diagram, once).
2. `ScenarioEnv.reset()` of box_flipup with no randomization (plain) against box_flipup_dr's full
   reset-scope randomization (box x and theta, mass, centre of mass, two frictions; its per-step
   noise adds one draw per reset), against box_flipup_dr without the friction draws, and against
   the whole box_flipup_dr, whose per-build block rebuilds the diagram every 20 episodes, taking
   turns in each repeat. The issue asks for at most 2x for the reset scope.
3. What one contact-property draw costs in Drake: `SceneGraph.AssignRole` on box_flipup's box and
   finger, by the geometry's hydroelastic kind.

    .venv/bin/python -m bench.bench_randomization [--quick]
"""

from __future__ import annotations

import argparse
import re
import time

from bench.common import SCENARIOS, interleaved, load_variant, machine, median, paired_ratio, runs_text


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer resets and repeats")
    options = parser.parse_args()
    count, repeats = (100, 3) if options.quick else (300, 7)

    import numpy as np

    from scenario_dsl import load
    from scenario_dsl.compiler import compile_scenario
    from scenario_dsl.runtime.env import ScenarioEnv

    print(f"randomization: {machine()}")
    for name in ("box_flipup", "box_flipup_dr"):
        compiled = compile_scenario(load(SCENARIOS / f"{name}.scn"))
        for scope in ("episode", "step"):
            sampler = compiled.randomizer.sampler_for(compiled.diagram, (scope,))
            if not sampler.names:
                continue
            times = []
            for seed in range(repeats):
                start = time.perf_counter()
                sampler.sample(100_000, np.random.default_rng(seed))
                times.append(time.perf_counter() - start)
            print(f"{name} per {scope}: 100,000 episodes ({len(sampler.names)} quantities) drawn in "
                  f"median {median(times) * 1e3:.1f} ms (runs, ms: [{runs_text([t * 1e3 for t in times], 1)}])")

    from scenario_dsl import loads

    text = (SCENARIOS / "box_flipup_dr.scn").read_text()
    reset_scope = re.sub(r"\nrandomize per build[^{]*\{.*?\n\}", "", text, flags=re.S)  # the per-build block
    assert "per build" not in reset_scope.replace("# the", "")
    no_friction = "\n".join(line for line in reset_scope.splitlines() if ".friction" not in line)
    envs = {"plain": ScenarioEnv(load_variant("box_flipup", randomize=False), seed=0),
            "dr": ScenarioEnv(loads(reset_scope, "dr.scn", base_dir=SCENARIOS), seed=0),
            "dr_no_friction": ScenarioEnv(loads(no_friction, "dr_no_friction.scn", base_dir=SCENARIOS), seed=0),
            "dr_rebuilds": ScenarioEnv(load(SCENARIOS / "box_flipup_dr.scn"), seed=0)}
    for env in envs.values():
        env.reset(seed=0)

    def resets(env: ScenarioEnv) -> float:
        start = time.perf_counter()
        for _ in range(count):
            env.reset()
        return count / (time.perf_counter() - start)

    figures = interleaved({name: lambda e=env: resets(e) for name, env in envs.items()}, repeats)
    p = median(figures["plain"])
    print(f"resets/s, {count} resets per run, median of {repeats} (runs in brackets):")
    for name in envs:
        r = median(figures[name])
        print(f"  {name:<15} {r:>6.0f}/s  cost x{paired_ratio(figures['plain'], figures[name]):.2f} of plain "
              f"(+{(1 / r - 1 / p) * 1e6:.0f} us per reset)  [{runs_text(figures[name], 0)}]")
    print("  (plain: box_flipup without randomize; dr: box_flipup_dr without its per-build block; dr_no_friction: "
          "dr without its two friction draws, each a SceneGraph AssignRole that re-meshes a compliant-hydroelastic "
          "geometry; dr_rebuilds: the whole box_flipup_dr, a new diagram every 20 episodes)")

    assign_role_costs(count, repeats)


def assign_role_costs(count: int, repeats: int) -> None:
    """What one contact-property draw costs: `SceneGraph.AssignRole(context, ..., kReplace)` on
    box_flipup's box and finger, with their own (compliant-hydroelastic) properties, as rigid
    hydroelastic, and with no hydroelastic properties at all (only the material group)."""
    from pydrake.geometry import (
        AddCompliantHydroelasticProperties,
        AddContactMaterial,
        AddRigidHydroelasticProperties,
        ProximityProperties,
        RoleAssign,
    )
    from pydrake.multibody.plant import CoulombFriction

    from scenario_dsl import load
    from scenario_dsl.compiler import compile_scenario

    compiled = compile_scenario(load(SCENARIOS / "box_flipup.scn"))
    plant, scene_graph = compiled.plant, compiled.scene_graph
    context = scene_graph.GetMyMutableContextFromRoot(compiled.diagram.CreateDefaultContext())
    source = plant.get_source_id()

    def properties(mu: float, kind: str) -> ProximityProperties:
        props = ProximityProperties()
        AddContactMaterial(1e4, 1e7, CoulombFriction(mu, mu), props)
        props.AddProperty("material", "relaxation_time", 0.1)  # SceneGraph's default: no second pass
        if kind == "compliant":
            AddCompliantHydroelasticProperties(0.01, 1e8, props)
        elif kind == "rigid":
            AddRigidHydroelasticProperties(0.01, props)
        return props

    def assign(geometry: object, kind: str) -> float:
        drawn = [properties(0.5 + 1e-3 * i, kind) for i in range(count)]
        start = time.perf_counter()
        for props in drawn:
            scene_graph.AssignRole(context, source, geometry, props, RoleAssign.kReplace)
        return (time.perf_counter() - start) / count * 1e6

    print(f"SceneGraph.AssignRole(context, kReplace), us per call, {count} calls per run, median of {repeats}:")
    for body in ("box", "finger"):
        geometry = plant.GetCollisionGeometriesForBody(plant.GetBodyByName(body))[0]
        costs = {kind: median([assign(geometry, kind) for _ in range(repeats)])
                 for kind in ("compliant", "rigid", "none")}
        print(f"  {body:<7} compliant hydroelastic {costs['compliant']:5.0f}   rigid hydroelastic "
              f"{costs['rigid']:5.0f}   no hydroelastic properties {costs['none']:5.0f}")


if __name__ == "__main__":
    main()
