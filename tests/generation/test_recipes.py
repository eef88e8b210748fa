"""Recipes and templates: versions, files, strict variables, the sandbox."""

from __future__ import annotations

import pytest

from workbench.errors import InvalidSpec, NotFound, TemplateError
from workbench.generation.templates import render, template_variables


def test_undefined_variable_is_named() -> None:
    with pytest.raises(TemplateError, match="'colour'"):
        render("a {{ colour }} mug on {{ background }}", {"background": "oak"})


@pytest.mark.parametrize("escape", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ x.__class__ }}",
])
def test_sandbox_escapes_are_template_errors(escape: str) -> None:
    with pytest.raises(TemplateError):
        render(escape, {"x": "y", "cycler": object()})


def test_syntax_error_and_default_filter() -> None:
    with pytest.raises(TemplateError, match="syntax"):
        render("{{ broken ", {})
    assert render("{{ title | default('product') }} shot", {}) == "product shot"
    assert template_variables("{{ a }} {% for x in b %}{{ x }}{% endfor %}") == {"a", "b"}


def test_versions_and_identical_content(wb) -> None:
    r1 = wb.generation.add_recipe("hero", "{{ sku }} on {{ background }}", variables={"background": "white"})
    again = wb.generation.add_recipe("hero", "{{ sku }} on {{ background }}", variables={"background": "white"})
    assert again.id == r1.id and again.version == 1
    r2 = wb.generation.add_recipe("hero", "{{ sku }} on a {{ background }} table", variables={"background": "oak"})
    assert r2.version == 2
    assert wb.generation.recipe("hero").version == 2
    assert wb.generation.recipe("hero@1").template == "{{ sku }} on {{ background }}"
    assert wb.generation.recipe("hero", 1).variables == {"background": "white"}
    listed = wb.generation.recipes()
    assert [(r["name"], r["version"], r["versions"]) for r in listed] == [("hero", 2, 2)]
    events = wb.sql("SELECT count(*) AS n FROM events WHERE action = 'recipe.add'")
    assert events[0]["n"] == 2


def test_unknown_recipe_suggests(wb) -> None:
    wb.generation.add_recipe("lifestyle", "x")
    with pytest.raises(NotFound, match="did you mean 'lifestyle'"):
        wb.generation.recipe("lifestyl")
    with pytest.raises(NotFound):
        wb.generation.recipe("lifestyle@7")


def test_bad_recipe_fields(wb) -> None:
    with pytest.raises(InvalidSpec):
        wb.generation.add_recipe("bad@name", "x")
    with pytest.raises(InvalidSpec, match="unknown defaults"):
        wb.generation.add_recipe("ok", "x", defaults={"temperature": 1})
    with pytest.raises(TemplateError):
        wb.generation.add_recipe("ok", "{{ unclosed")


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_file_round_trip(wb, tmp_path, suffix: str) -> None:
    wb.generation.add_recipe("season", "{{ title }} in {{ season }} light,\nmarket {{ market }}", negative="text, watermark",
                  variables={"season": ["spring", "autumn"], "market": "EU"},
                  defaults={"aspect": "4:5", "n": 2}, description="Seasonal hero")
    path = wb.generation.export_recipe("season", tmp_path / f"season{suffix}")
    assert path.exists()
    # re-import unchanged: same version; edit the file: a new version
    assert wb.generation.import_recipe(path).version == 1
    text = path.read_text().replace("EU", "US")
    path.write_text(text)
    new = wb.generation.import_recipe(path)
    assert new.version == 2 and new.variables["market"] == "US"
    assert new.negative == "text, watermark" and new.defaults == {"aspect": "4:5", "n": 2}
    assert new.description == "Seasonal hero"


def test_file_with_unknown_field(wb, tmp_path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('name = "x"\ntemplate = "y"\ncolour = "red"\n')
    with pytest.raises(InvalidSpec, match="unknown recipe fields"):
        wb.generation.import_recipe(path)
