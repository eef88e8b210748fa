"""Recipes: named, versioned prompt templates with variables and defaults, stored in the ledger.

A recipe is ``name`` + ``template`` (+ optional ``negative`` template) + ``variables`` (name → default;
a list default is a sweep axis) + ``defaults`` (engine parameters: ``engine``, ``model``, ``aspect``,
``n``, ``seeds``) + ``description``. Saving a recipe whose content differs from its latest version makes
version N+1; old versions stay runnable as ``name@N``. Saving identical content is a no-op that returns the
existing version, so re-importing a file is idempotent.

Files (TOML or YAML, chosen by extension) carry the same fields: ``name, template, negative, variables,
defaults, description``.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w
import yaml

from ..errors import InvalidSpec, LedgerError, NotFound
from ..ids import new_id
from .templates import validate

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["FILE_FIELDS", "Recipe", "dump_recipe_file", "load_recipe_file", "parse_recipe_ref"]

FILE_FIELDS = ("name", "template", "negative", "variables", "defaults", "description")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")
_DEFAULT_KEYS = {"engine", "engines", "model", "models", "aspect", "size", "sizes", "resolution", "n", "seed", "seeds",
                 "strength", "extras"}


@dataclass
class Recipe:
    """One stored recipe version."""

    id: str
    name: str
    version: int
    template: str
    negative: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    author: str | None = None
    created_at: Any = None

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def content(self) -> dict[str, Any]:
        """The fields a recipe file carries (what versions are compared on)."""
        return {"name": self.name, "template": self.template, "negative": self.negative,
                "variables": self.variables, "defaults": self.defaults, "description": self.description}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict including id, version and authorship."""
        out = self.content()
        out.update(id=self.id, version=self.version, ref=self.ref, author=self.author,
                   created_at=str(self.created_at) if self.created_at is not None else None)
        return out


def parse_recipe_ref(ref: str) -> tuple[str, int | None]:
    """Split ``name@3`` into ``("name", 3)``; a bare name gives ``(name, None)`` (latest)."""
    if "@" in ref:
        name, _, ver = ref.rpartition("@")
        try:
            return name, int(ver)
        except ValueError as exc:
            raise InvalidSpec(f"bad recipe reference {ref!r}: the part after '@' must be a version number") from exc
    return ref, None


def _check_fields(name: str, template: str, variables: Any, defaults: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidSpec(f"bad recipe name {name!r}: letters, digits, space, '_', '-', '.' (no '@')")
    if not isinstance(template, str) or not template.strip():
        raise InvalidSpec(f"recipe {name!r} needs a non-empty template")
    if not isinstance(variables, dict):
        raise InvalidSpec(f"recipe {name!r}: variables must be a table of name = default")
    if not isinstance(defaults, dict):
        raise InvalidSpec(f"recipe {name!r}: defaults must be a table")
    unknown = set(defaults) - _DEFAULT_KEYS
    if unknown:
        raise InvalidSpec(f"recipe {name!r}: unknown defaults {sorted(unknown)}; allowed: {sorted(_DEFAULT_KEYS)}")


def _row_to_recipe(row: tuple[Any, ...]) -> Recipe:
    rid, name, version, template, negative, variables, defaults, description, author, created = row
    return Recipe(rid, name, int(version), template, negative, json.loads(variables or "{}"),
                  json.loads(defaults or "{}"), description, author, created)


_COLUMNS = "id, name, version, template, negative_template, variables, defaults, description, author, created_at"


def save_recipe(project: Project, name: str, template: str, *, negative: str | None = None,
                variables: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
                description: str | None = None) -> Recipe:
    """Store a recipe; a changed one becomes a new version, identical content returns the latest version."""
    variables = dict(variables or {})
    defaults = dict(defaults or {})
    _check_fields(name, template, variables, defaults)
    validate(template)
    if negative:
        validate(negative)
    wanted = {"name": name, "template": template, "negative": negative or None, "variables": variables,
              "defaults": defaults, "description": description}
    with project.ledger.connect(write=True) as con:
        row = con.execute(f"SELECT {_COLUMNS} FROM recipes WHERE name = ? AND retired_at IS NULL "
                          "ORDER BY version DESC LIMIT 1", [name]).fetchone()
        latest = _row_to_recipe(row) if row else None
        if latest is not None and json.dumps(latest.content(), sort_keys=True) == json.dumps(wanted, sort_keys=True):
            return latest
        version = (latest.version + 1) if latest else 1
        rid = new_id("recipe")
        con.execute(
            "INSERT INTO recipes (id, name, version, template, negative_template, variables, defaults, description,"
            " author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rid, name, version, template, negative or None, json.dumps(variables), json.dumps(defaults),
             description, project.user],
        )
        project.events.record(con, "recipe.add", "recipe", rid, {"name": name, "version": version})
        row = con.execute(f"SELECT {_COLUMNS} FROM recipes WHERE id = ?", [rid]).fetchone()
    if row is None:  # we inserted it in this very transaction
        raise LedgerError(f"recipe {rid} vanished while it was being saved")
    return _row_to_recipe(row)


def get_recipe(project: Project, name: str, version: int | None = None) -> Recipe:
    """Recipe ``name`` at ``version`` (latest when None); ``name@N`` is accepted too."""
    if version is None:
        name, version = parse_recipe_ref(name)
    with project.ledger.connect() as con:
        if version is None:
            row = con.execute(f"SELECT {_COLUMNS} FROM recipes WHERE name = ? AND retired_at IS NULL "
                              "ORDER BY version DESC LIMIT 1", [name]).fetchone()
        else:
            row = con.execute(f"SELECT {_COLUMNS} FROM recipes WHERE name = ? AND version = ?",
                              [name, int(version)]).fetchone()
        if row is None:
            names = [r[0] for r in con.execute("SELECT DISTINCT name FROM recipes").fetchall()]
    if row is None:
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        what = f"{name}@{version}" if version is not None else name
        raise NotFound(f"unknown recipe {what!r}{hint}")
    return _row_to_recipe(row)


def list_recipes(project: Project) -> list[dict[str, Any]]:
    """The latest version of every recipe, with its number of versions, sorted by name."""
    with project.ledger.connect() as con:
        rows = con.execute(
            f"SELECT {_COLUMNS}, count(*) OVER (PARTITION BY name) AS n FROM recipes WHERE retired_at IS NULL "
            "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
        ).fetchall()
    out = []
    for row in rows:
        recipe = _row_to_recipe(row[:-1])
        item = recipe.to_dict()
        item["versions"] = int(row[-1])
        out.append(item)
    return out


def load_recipe_file(path: str | Path) -> dict[str, Any]:
    """Read a recipe file (``.toml``, ``.yaml``/``.yml``) into the keyword arguments of :func:`save_recipe`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSpec(f"cannot read recipe file {path}: {exc}") from exc
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise InvalidSpec(f"{path}: recipe files are .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InvalidSpec(f"{path}: cannot parse recipe: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidSpec(f"{path}: a recipe file is a table of fields {FILE_FIELDS}")
    unknown = set(data) - set(FILE_FIELDS)
    if unknown:
        raise InvalidSpec(f"{path}: unknown recipe fields {sorted(unknown)}; allowed: {list(FILE_FIELDS)}")
    for required in ("name", "template"):
        if required not in data:
            raise InvalidSpec(f"{path}: recipe field {required!r} is required")
    return {k: data.get(k) for k in FILE_FIELDS if k in data}


def dump_recipe_file(recipe: Recipe, path: str | Path) -> Path:
    """Write ``recipe`` to ``path`` as TOML or YAML (by extension); ``None`` fields are left out."""
    path = Path(path)
    data = {k: v for k, v in recipe.content().items() if v not in (None, {}, "")}
    if path.suffix.lower() == ".toml":
        text = tomli_w.dumps(data, multiline_strings=True)
    elif path.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        raise InvalidSpec(f"{path}: recipe files are .toml, .yaml or .yml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
