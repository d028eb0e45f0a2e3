"""Stage 4: AST -> validated `Scenario` (scenario_dsl.lang.model).

Checks names (undefined, duplicate, wrong kind, with did-you-mean hints), units and shapes
(through `typecheck`), and values (ordered limits, non-negative masses, positive time steps,
an episode step that is a whole number of plant steps, valid distribution parameters). Every
problem is collected; nothing stops at the first one. A root file without a `scenario`
statement is a fragment meant for `include`: only its syntax and includes are checked.

The validator is one class, `Validator`, made of one class per section, each deriving from the
shared `Context` (`context`: the files and statements, the diagnostics, the name tables, the type
checker and the helpers every section uses). `Validator.run` (here) calls the sections in order:

- names (`names`): declarations, duplicate and reserved names, model files;
- constants (`constants`): `param`s and their `--param` overrides;
- the plant (`plant`): plant settings, models, frames, bodies, joints, welds, controllers;
- lets and randomization (`randomization`): top-level `let`s, `randomize` blocks, draw targets and
  scopes; their distributions (`distributions`): families, parameters, `rpy`; what adapts while
  training (`adaptive`): the `adaptive` settings and `curriculum` stages;
- the agent's ports (`agent`): the action and the observations;
- reward, episode and training (`episode`): reward terms, conditions, the episode, `train`, and
  the parameters and `let`s nothing uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.model import Scenario
from scenario_dsl.lang.typecheck import Failed
from scenario_dsl.lang.validate.adaptive import AdaptiveChecks
from scenario_dsl.lang.validate.agent import AgentChecks
from scenario_dsl.lang.validate.constants import ConstantChecks
from scenario_dsl.lang.validate.context import Context, where
from scenario_dsl.lang.validate.distributions import _DIST_ARGS as _DIST_ARGS  # the vocabulary: tests/test_docs.py
from scenario_dsl.lang.validate.distributions import DistributionChecks
from scenario_dsl.lang.validate.episode import _ALGOS as _ALGOS
from scenario_dsl.lang.validate.episode import EpisodeChecks
from scenario_dsl.lang.validate.names import NameChecks
from scenario_dsl.lang.validate.plant import _APPROXIMATIONS as _APPROXIMATIONS
from scenario_dsl.lang.validate.plant import _CONTACT_MODELS as _CONTACT_MODELS
from scenario_dsl.lang.validate.plant import _JOINT_TYPES as _JOINT_TYPES
from scenario_dsl.lang.validate.plant import _SHAPES as _SHAPES
from scenario_dsl.lang.validate.randomization import RandomizationChecks
from scenario_dsl.lang.validate.scene import SceneChecks
from scenario_dsl.support.suggest import did_you_mean

__all__ = ["Context", "Validator", "validate", "where"]


def validate(files: list[ast.File], params: Mapping[str, Any], base_dir: str | None = None,
             statements: Sequence[ast.Statement] | None = None) -> tuple[Scenario | None, list[Diagnostic]]:
    """Validate the root file (first) with its includes; returns the scenario and diagnostics.
    `base_dir` resolves model files of a root file that is not on disk (`loads`).
    `statements`, when given, are the statements of every file in source order (as the include
    resolver lays them out); when None, the files' statements one file after another."""
    validator = Validator(files, params, base_dir, statements)
    try:
        return validator.run()
    finally:
        # Its scopes call back into it (`resolve_ref`, `resolve_let`): a reference cycle that
        # would leave the validator, and the whole AST it holds, to the cyclic collector, which
        # `scn lint` keeps off (a 100,000-line file: 3.3 million objects, 2 s to collect).
        # Emptying it ends the cycle, so reference counting frees the AST when its last user lets go.
        validator.__dict__.clear()


class Validator(NameChecks, ConstantChecks, SceneChecks, RandomizationChecks, DistributionChecks, AdaptiveChecks,
                AgentChecks, EpisodeChecks):
    """One validation: `run` calls the sections in order and assembles the `Scenario`."""

    def run(self) -> tuple[Scenario | None, list[Diagnostic]]:
        header = next((s for s in self.files[0].statements if isinstance(s, ast.ScenarioDecl)), None)
        if header is None:
            return None, []  # a fragment: checked when a scenario includes it
        self._declare()
        self._params()
        plant = self._plant()
        models = [m for m in (self._model(d) for d in self.decls.models.values()) if m]
        frames = [self._frame(d) for d in self.decls.frames.values()]
        bodies = [b for b in (self._body(d) for d in self.decls.bodies.values()) if b]
        self._shape_sizes = {b.name: b.shape.size for b in bodies if b.shape is not None}
        joints = [j for j in (self._joint(d) for d in self.decls.joints.values()) if j]
        welds = [self._weld(w) for w in self.statements if isinstance(w, ast.Weld)]
        controllers = [c for c in (self._controller(d) for d in self.decls.controllers.values()) if c]
        has_success = any(isinstance(i, ast.Success) for s in self.statements if isinstance(s, ast.EpisodeBlock)
                          for i in s.items)
        curriculum = self._curriculum(has_success)
        randomizations = [self._randomize(b) for b in self.statements if isinstance(b, ast.RandomizeBlock)]
        adaptation = self._adaptation(randomizations, has_success)
        markers = [k for k in (self._marker(d) for d in self.decls.markers.values()) if k]
        cameras = [c for c in (self._camera(d) for d in self.decls.cameras.values()) if c]
        lights = [self._light(d) for d in self.decls.lights.values()]
        action = self._action()
        observations, images = self._observations()
        reward = self._reward()
        episode = self._episode(plant)
        train = self._train()
        for name in self.decls.lets:  # report problems in lets nothing used
            try:
                self._resolve_let(name)
            except Failed:
                pass
        self._unused()
        for name in self.overrides:
            self.diagnostics.add("SCN210", f"no parameter `{name}` to override", header.span,
                                 did_you_mean(name, list(self.decls.params)) or
                                 (f"parameters: {', '.join(self.decls.params)}" if self.decls.params else
                                  "this scenario declares no `param`"))
        if self.diagnostics.has_errors or action is None or episode is None:
            return None, list(self.diagnostics)
        scenario = Scenario(
            name=header.name.name, description=header.description, path=self.files[0].span.path,
            params={k: v.constant for k, v in self.constants.constants.items()  # type: ignore[misc]
                    if k in self.decls.params and v.constant is not None},
            plant=plant, models=models, frames=frames, bodies=bodies, joints=joints, welds=welds,
            controllers=controllers, markers=markers, cameras=cameras, lights=lights,
            action=action, observations=observations, images=images, randomizations=randomizations,
            adaptation=adaptation, curriculum=curriculum,
            reward=reward, episode=episode, train=train,
        )
        return scenario, list(self.diagnostics)
