"""Recipes in the Studio: load the chosen one into the fields, tell whether they are unchanged, Save recipe."""

from __future__ import annotations

from typing import Any

import param

from ...errors import InvalidSpec
from ...generation.sweep_input import format_variables, parse_variables
from .fields import ASPECTS
from .remember import Remembered

__all__ = ["Recipes"]


class Recipes(Remembered):
    """The chosen recipe and Save recipe."""

    @param.depends("recipe", "recipe_version", watch=True)
    def load_recipe(self) -> None:
        """Put the chosen recipe's template, variables and defaults into the fields."""
        if self._restoring:
            return
        if not self.recipe:
            self._recipe_template = None
            return
        recipe = self._remember_recipe()
        if recipe is None:
            return
        defaults = recipe.defaults or {}
        update: dict[str, Any] = {"prompt": recipe.template, "variables": format_variables(recipe.variables)}
        if defaults.get("aspect") in ASPECTS:
            update["aspect"] = defaults["aspect"]
        engines = defaults.get("engines") or ([defaults["engine"]] if defaults.get("engine") else [])
        if engines:
            update["engines"] = [str(e) for e in engines]
        self.param.update(**update)

    def _remember_recipe(self) -> Any:
        wb = self.session.wb
        recipe = self.session.attempt(None, lambda: wb.generation.recipe(self.recipe, self.recipe_version or None))
        if recipe is not None:
            self._recipe_template, self._recipe_variables = recipe.template, dict(recipe.variables or {})
            self._recipe_loaded = int(recipe.version)
        return recipe

    def recipe_unchanged(self) -> bool:
        """Whether the prompt and variables are the chosen recipe's own (the sweep then runs the recipe)."""
        if not self.recipe or self._recipe_template is None or self.prompt != self._recipe_template:
            return False
        try:
            return parse_variables(self.variables) == self._recipe_variables
        except InvalidSpec:
            return False

    def save_recipe(self, name: str | None = None) -> Any:
        """Save the prompt, variables, engines and aspect as recipe ``name`` (``save_as``, else the chosen
        recipe); changed content becomes its next version. Editors and up."""
        name = (name or self.save_as or self.recipe).strip()
        if not name:
            self.session.say("Name the recipe to save it as.", "warning")
            return None
        wb = self.session.wb

        def run() -> Any:
            variables = parse_variables(self.variables)
            defaults: dict[str, Any] = {"aspect": self.aspect}
            if self.size.strip():
                defaults["size"] = self.size
            if self.engines:
                defaults["engines"] = list(self.engines)
            return wb.generation.add_recipe(name, self.prompt, variables=variables, defaults=defaults)

        recipe = self.session.attempt("generate", run)
        if recipe is None:
            return None
        self.session.say(f"Saved recipe {recipe.name}@{recipe.version}", "success")
        self._restoring = True  # choosing the saved recipe must not reload the fields it was made from
        try:
            self.param.update(recipe=recipe.name, recipe_version=int(recipe.version), save_as=recipe.name)
        finally:
            self._restoring = False
        self._recipe_template, self._recipe_variables = recipe.template, dict(recipe.variables or {})
        self._recipe_loaded = int(recipe.version)
        self._save()
        return recipe
