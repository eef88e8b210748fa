"""Issue 15, item 2: template rendering has a time and output budget per template and per sweep."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import workbench
from workbench.cli import main
from workbench.errors import InvalidSpec, TemplateError
from workbench.generation.templates import RenderBudget, render, validate

# each of these pins a core, fills memory or recurses without a budget
HOSTILE = {
    "nested loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "nested output": "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    "macro buffer": "{% macro m() %}{% for i in range(100000) %}{% for j in range(1000) %}0123456789"
                    "{% endfor %}{% endfor %}{% endmacro %}{{ m()|length }}",
    "set block": "{% set s %}{% for i in range(100000) %}{% for j in range(1000) %}xx{% endfor %}{% endfor %}"
                 "{% endset %}{{ s|length }}",
    "recursive macro": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "recursive loop": "{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}",
    "repeat": "{{ 'x' * 1000000000 }}",
    "list repeat": "{{ [1] * 1000000000 }}",
    "power": "{{ 10 ** (10 ** 9) }}",
    "squaring": "{% set ns = namespace(x=3) %}{% for i in range(100) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "doubling ~": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "doubling +": "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "center": "{{ 'a'|center(1000000000) }}",
    "indent": "{{ ('a\n' * 50000)|indent(1000) }}",
    "format filter": "{{ '%999999999s'|format(1) }}",
    "format star": "{{ '%*s'|format(999999999, 1) }}",
    "percent": "{{ '%999999999s' % 1 }}",
    "str.format": "{{ '{:>999999999}'.format(1) }}",
    "nested width": "{{ '{:{w}}'.format(1, w=999999999) }}",
    "ljust": "{{ 'a'.ljust(999999999) }}",
    "join": "{{ (['x' * 100000] * 100000)|join }}",
    "str.join": "{{ ''.join(['x' * 100000] * 100000) }}",
    "replace": "{{ ('a' * 100000)|replace('a', 'bbbbbbbbbb') }}",
    "slice": "{{ [1]|slice(1000000000)|list }}",
    "tojson indent": "{{ [[1]]|tojson(indent=1000000000) }}",
    "list append": "{% set l = [1] %}{% for i in range(30) %}{{ l.extend(l) }}{% endfor %}",
    "lipsum": "{{ lipsum(1000000) }}",
    "deep nesting": "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
}


def _render_in_thread(source: str, budget: RenderBudget | None = None) -> BaseException | str:
    """Render in a worker thread (budgets hold in any thread); returns the result or the exception."""
    out: list[BaseException | str] = []

    def work() -> None:
        try:
            out.append(render(source, {}, budget))
        except BaseException as exc:  # the test inspects whatever escaped
            out.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(120)  # liveness, not speed: without a budget these run for hours
    assert not thread.is_alive(), "the render is still running: no budget stopped it"
    return out[0]


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_templates_end_as_template_errors(name: str) -> None:
    result = _render_in_thread(HOSTILE[name], RenderBudget(template_seconds=0.5))
    assert isinstance(result, TemplateError), result
    assert isinstance(result, InvalidSpec)
    message = str(result)
    assert "Traceback" not in message and len(message) < 400


def test_budget_messages_name_the_setting() -> None:
    over_time = _render_in_thread(HOSTILE["nested loops"], RenderBudget(template_seconds=0.2))
    assert "0.2 s" in str(over_time) and "generation.template_timeout_s" in str(over_time)
    over_size = _render_in_thread("{% for i in range(5000) %}0123456789{% endfor %}", RenderBudget(template_chars=1000))
    assert "1,000 characters" in str(over_size) and "generation.template_max_chars" in str(over_size)


def test_ordinary_templates_are_untouched() -> None:
    variables = {"sku": "SKU-1001", "backgrounds": ["white studio", "beige linen"], "count": 1_234_567}
    text = render("{{ sku }} on {{ backgrounds|join(' or ') }}, {{ '%d'|format(count) }} made, "
                  "{{ 'Order {} of 250000'.format(count) }}, {{ count|filesizeformat }}, "
                  "{% for b in backgrounds %}{{ loop.index }}={{ b|upper }} {% endfor %}"
                  "{{ 'x' * 3 }} {{ 2 ** 10 }} {{ '%-6s|' % 'ab' }} {{ 'ab'.center(6, '*') }}", variables)
    assert text == ("SKU-1001 on white studio or beige linen, 1234567 made, Order 1234567 of 250000, 1.2 MB, "
                    "1=WHITE STUDIO 2=BEIGE LINEN xxx 1024 ab | **ab**")
    with pytest.raises(TemplateError, match="'colour'"):
        render("{{ colour }}", {})


def test_a_sweep_shares_one_budget() -> None:
    budget = RenderBudget(template_seconds=5, template_chars=1000, sweep_seconds=60, sweep_chars=2500)
    for _ in range(2):
        render("{% for i in range(100) %}0123456789{% endfor %}", {}, budget)  # 1000 characters each
    assert budget.spent_chars == 2000 and budget.renders == 2
    with pytest.raises(TemplateError, match=r"sweep.s prompts used up their rendering budget .* after 2 renders"):
        render("{% for i in range(100) %}0123456789{% endfor %}", {}, budget)
    with pytest.raises(TemplateError, match="after 3 renders"):
        render("{{ 1 }}", {}, budget)  # spent: every further render is refused at once


def test_budgets_are_per_render_across_threads() -> None:
    slow = threading.Thread(target=_render_in_thread, args=(HOSTILE["nested loops"], RenderBudget(template_seconds=2)))
    slow.start()
    try:
        results = [render("{{ n }} ok", {"n": n}) for n in range(200)]  # meanwhile, here: own meter
    finally:
        slow.join(120)
    assert results[-1] == "199 ok"


def test_a_refused_plan_is_a_clear_invalid_spec(wb: workbench.Workbench) -> None:
    with pytest.raises(InvalidSpec, match="time budget"):
        wb.plan(prompt="{{ sku }} " + HOSTILE["nested loops"], variables={"sku": "A"})
    with pytest.raises(InvalidSpec, match="over the 100,000-character budget"):
        wb.plan(prompt="{{ 'x' * 1000000000 }}")
    validate(HOSTILE["nested loops"])  # a valid template: only its rendering is refused


def test_a_plan_with_too_many_renders_runs_out_of_sweep_budget(project_dir: Path) -> None:
    toml = project_dir / "workbench.toml"
    toml.write_text(toml.read_text() + "\n[generation]\nsweep_template_max_chars = 5000\n")
    wb = workbench.open(project_dir)
    values = [f"value {i:04d} " * 4 for i in range(200)]  # 200 prompts of ~70 characters: 14,000 in all
    with pytest.raises(InvalidSpec, match="sweep_template_max_chars"):
        wb.plan(prompt="a mug on {{ v }}", variables={"v": values})
    assert wb.plan(prompt="a mug on {{ v }}", variables={"v": values[:20]}).count == 20


def test_cli_prints_one_line_for_a_refused_plan(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--prompt", HOSTILE["recursive macro"], "--dry-run", "--project", str(project_dir)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "recursion" in err and len(err.strip().splitlines()) <= 3
