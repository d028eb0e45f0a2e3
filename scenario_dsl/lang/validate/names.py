"""Names: declare every top-level name once (SCN202: duplicate or reserved; SCN211: a second
`plant`, `reward`, `episode` or `train` section, or a second action), and load the model files
that `model` declarations name.
"""

from __future__ import annotations

from scenario_dsl.lang import ast
from scenario_dsl.lang.modelfiles import ModelFileError, inspect_model, resolve_url
from scenario_dsl.lang.names import COMPILER_SYSTEMS, RESERVED
from scenario_dsl.lang.validate.context import Context


class NameChecks(Context):
    """Declaring names and loading model files."""

    def _declare(self) -> None:
        tables: dict[type, str] = {
            ast.BodyDecl: "bodies", ast.JointDecl: "joints", ast.FrameDecl: "frames", ast.ModelDecl: "models",
            ast.ControllerDecl: "controllers", ast.MarkerDecl: "markers", ast.CameraDecl: "cameras",
            ast.LightDecl: "lights", ast.ActionDecl: "actions",
            ast.ObservationDecl: "observations",
            ast.Param: "params", ast.Let: "lets",
        }
        seen_sections: dict[type, ast.Node] = {}
        for statement in self.statements:
            if isinstance(statement, ast.Weld):
                self.decls.welds.append(statement)
            if isinstance(statement, ast.ModelDecl):
                self.decls.welds.extend(i for i in statement.items or () if isinstance(i, ast.Weld))
            if isinstance(statement, (ast.PlantBlock, ast.RewardBlock, ast.EpisodeBlock, ast.TrainBlock,
                                      ast.AdaptiveBlock, ast.CurriculumBlock, ast.ScenarioDecl)):
                first = seen_sections.setdefault(type(statement), statement)
                if first is not statement and not (isinstance(statement, ast.ScenarioDecl)
                                                   and statement.span.path != first.span.path):
                    self.error("SCN211", f"a second `{statement.span.text.split()[0]}` section", statement.span,
                               f"the first is at {first.span}; merge them")
            if isinstance(statement, ast.CurriculumBlock) and statement.stages:
                # a curriculum's variables (set by every stage, declared by the first) read like random
                # `let`s: the stage's value, written into the diagram at each reset
                for setting in statement.stages[0].settings:
                    if setting.value is not None and setting.key.name not in self.decls.random_lets:
                        self._add_name(setting.key, ast.Let(setting.span, setting.key, setting.value, True),
                                       "random_lets")
                        self._drawn_lets[setting.key.name] = ""  # any scope reads them
            if isinstance(statement, ast.RandomizeBlock):
                for item in statement.items:
                    if isinstance(item, ast.Let):
                        self._add_name(item.name, item, "random_lets")
            if isinstance(statement, (ast.BodyDecl, ast.JointDecl, ast.FrameDecl, ast.ModelDecl, ast.ControllerDecl,
                                      ast.MarkerDecl, ast.CameraDecl, ast.LightDecl,
                                      ast.ActionDecl, ast.ObservationDecl, ast.Param, ast.Let)):
                self._add_name(statement.name, statement, tables[type(statement)])
        if len(self.decls.actions) > 1:
            second = list(self.decls.actions.values())[1]
            self.error("SCN211", "a scenario has one action", second.span,
                       "combine the commands into one action (e.g. a controller over several joints)")
        for name, decl in self.decls.models.items():
            try:
                self.decls.model_info[name] = inspect_model(resolve_url(decl.url, self._folder(decl.span)))
            except ModelFileError as exc:
                self.error(exc.code, str(exc), decl.span, exc.hint)

    def _add_name(self, ident: ast.Ident, node: ast.Node, table: str) -> None:
        name = ident.name
        if name in RESERVED:
            self.error("SCN202", f"`{name}` is a reserved name", ident.span, "choose another name")
            return
        if table in ("actions", "controllers") and name in COMPILER_SYSTEMS:
            self.error("SCN202", f"`{name}` is the name of a system scn adds to every diagram", ident.span,
                       f"the {table[:-1]} becomes a system named after it: choose another name")
            # declared all the same, so its uses resolve and report nothing more
        first = self.decls.order.get(name)
        if first is not None:
            self.error("SCN202", f"`{name}` is already declared", ident.span, f"first declared at {first.span}")
            return
        self.decls.order[name] = node
        getattr(self.decls, table)[name] = node
