"""Prompt templates: sandboxed, strict Jinja2 with a time and output budget per template and per sweep.

Every prompt (a stored recipe or an inline ``--prompt``) is a template. Rendering runs in Jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with :class:`~jinja2.StrictUndefined`, so

* a variable the caller did not supply is a :class:`~workbench.errors.TemplateError` that names it,
* attribute tricks such as ``{{ ''.__class__.__mro__ }}`` are refused as a sandbox violation, and lists and
  dicts cannot be grown in place (``items.append``, ``d.update``),
* rendering is **budgeted** (:class:`RenderBudget`): each template gets a wall-clock deadline and a cap on
  the characters it produces, and all the renders of one sweep share a larger pair of both. A template
  with nested loops (``range(100000)`` inside ``range(100000)``), a recursive macro, ``'x' * 10**9``,
  ``10 ** 10 ** 9``, ``'a'|center(10**9)`` or ``'%999999999s'|format(1)`` ends as a ``TemplateError`` within
  its budget, never as a pinned core, a ``MemoryError`` or a traceback.

How the budget is enforced, from whatever thread renders (no signals, no second process): templates are
compiled by :class:`_BudgetCodeGenerator`, which puts a call to the active meter at the top of every loop
body, macro and block, and around every piece of output (literal text and ``{{ … }}`` alike, inside macros
and ``{% set %}`` blocks too, so buffers never outgrow the cap); the operators that can build a huge value
in one step (``*``, ``**``, ``+``, ``%``, ``~``), the growing ``str`` methods and filters check the size of
their result *before* computing it. The active meter lives in a :class:`~contextvars.ContextVar`, so
concurrent renders in threads or tasks each keep their own.

Rendered prompts are whitespace-normalised (runs of spaces/newlines collapse) so that cosmetic template
edits do not change request hashes needlessly.
"""

from __future__ import annotations

import contextvars
import functools
import math
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from ..errors import TemplateError

__all__ = ["MAX_SOURCE_CHARS", "RenderBudget", "render", "template_variables", "validate"]

#: The longest template source accepted (parsing and compiling cost grow with it).
MAX_SOURCE_CHARS = 100_000
_MAX_INT_BITS = 64_000  # about 19,000 digits: far past any prompt, far below a pinned core
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?[hlL]?[a-zA-Z%]")
_FORMATTER = string.Formatter()
#: Filters whose integer arguments are sizes or counts (padding, slices, JSON indent), not values.
_SIZED_FILTERS = frozenset({"center", "indent", "slice", "tojson", "wordwrap"})


# -- budgets --------------------------------------------------------------------------------------------------
class RenderBudget:
    """Time and output budgets for rendering: per template, and shared by every render of one sweep.

    ``template_seconds``/``template_chars`` bound one render; ``sweep_seconds``/``sweep_chars`` bound the sum
    over every render charged to this budget (one budget per :func:`~workbench.generation.sweeps.build_plan`).
    Settings: ``[generation] template_timeout_s``, ``template_max_chars``, ``sweep_template_timeout_s``,
    ``sweep_template_max_chars``.
    """

    def __init__(self, template_seconds: float = 1.0, template_chars: int = 100_000,
                 sweep_seconds: float = 20.0, sweep_chars: int = 20_000_000) -> None:
        self.template_seconds = float(template_seconds)
        self.template_chars = int(template_chars)
        self.sweep_seconds = float(sweep_seconds)
        self.sweep_chars = int(sweep_chars)
        self.spent_seconds = 0.0
        self.spent_chars = 0
        self.renders = 0

    @classmethod
    def from_settings(cls, settings: Any) -> RenderBudget:
        """The project's budgets from ``[generation]`` (defaults where unset)."""
        base = cls()

        def get(key: str, default: float) -> float:
            value = settings.get(f"generation.{key}", default)
            return float(value) if value not in (None, "") else default

        return cls(get("template_timeout_s", base.template_seconds), int(get("template_max_chars", base.template_chars)),
                   get("sweep_template_timeout_s", base.sweep_seconds),
                   int(get("sweep_template_max_chars", base.sweep_chars)))

    def __repr__(self) -> str:
        return (f"RenderBudget(template={self.template_seconds:g}s/{self.template_chars} chars, "
                f"sweep={self.sweep_seconds:g}s/{self.sweep_chars} chars, spent={self.spent_seconds:.3f}s/"
                f"{self.spent_chars} chars over {self.renders} renders)")

    def _meter(self) -> _Meter:
        seconds_left = self.sweep_seconds - self.spent_seconds
        chars_left = self.sweep_chars - self.spent_chars
        if seconds_left <= 0 or chars_left <= 0:
            raise self._sweep_spent()
        sweep_binds_time = seconds_left < self.template_seconds
        sweep_binds_chars = chars_left < self.template_chars
        return _Meter(self, min(self.template_seconds, seconds_left), min(self.template_chars, chars_left),
                      sweep_binds_time, sweep_binds_chars)

    def _sweep_spent(self) -> TemplateError:
        return TemplateError(
            f"the sweep's prompts used up their rendering budget ({self.sweep_seconds:g} s, {self.sweep_chars:,} "
            f"characters; generation.sweep_template_timeout_s / sweep_template_max_chars) after {self.renders} "
            "renders: make the sweep smaller or the template cheaper")


class _Meter:
    """The running budget of one render: a deadline, characters left, and the cap on any single value."""

    __slots__ = ("allowed", "budget", "chars_left", "deadline", "seconds", "started", "sweep_chars", "sweep_time",
                 "value_cap")

    def __init__(self, budget: RenderBudget, seconds: float, chars: int, sweep_time: bool, sweep_chars: bool) -> None:
        self.budget = budget
        self.seconds = seconds
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.allowed = self.chars_left = chars
        self.value_cap = chars  # no single value may be bigger than the output allowed
        self.sweep_time = sweep_time
        self.sweep_chars = sweep_chars

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            if self.sweep_time:
                raise self.budget._sweep_spent()
            raise TemplateError(
                f"template rendering stopped after {self.seconds:g} s, its time budget "
                "(generation.template_timeout_s): look for nested loops or recursion")

    def emit(self, size: int) -> None:
        self.chars_left -= size
        if self.chars_left < 0:
            if self.sweep_chars:
                raise self.budget._sweep_spent()
            raise TemplateError(
                f"template output is over its budget of {self.budget.template_chars:,} characters "
                "(generation.template_max_chars)")
        self.tick()

    def check_size(self, size: int, what: str) -> None:
        if size > self.value_cap:
            raise TemplateError(f"template refused: {what} would be {size:,} long, over the "
                                f"{self.value_cap:,}-character budget (generation.template_max_chars)")

    def check_int(self, value: Any, what: str) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > self.value_cap:
            raise TemplateError(f"template refused: {what} {value if abs(value) < 10**12 else 'so large'} "
                                f"is over the {self.value_cap:,} allowed (generation.template_max_chars)")

    def charge(self) -> None:
        self.budget.spent_seconds += time.monotonic() - self.started
        self.budget.spent_chars += self.allowed - self.chars_left
        self.budget.renders += 1


_ACTIVE: contextvars.ContextVar[_Meter | None] = contextvars.ContextVar("workbench_template_meter", default=None)


def _meter() -> _Meter:
    # compiled templates only run inside render(); anywhere else each check gets a fresh default meter
    return _ACTIVE.get() or RenderBudget()._meter()


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


# -- the environment -------------------------------------------------------------------------------------------
class _BudgetCodeGenerator(CodeGenerator):
    """Jinja2's code generator plus calls to the active meter (see the module docstring)."""

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        self.writeline("environment.budget_tick()")  # every loop body, macro, block, filter/with/scope

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.budget_out({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.budget_out(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.budget_value(")
        super().visit_Concat(node, frame)
        self.write(", '~')")


def _percent_widths(fmt: str, meter: _Meter, args: Iterable[Any]) -> None:
    """Refuse a ``%``-format whose width or precision (literal or ``*``) would pad past the cap."""
    for spec in _PERCENT_SPEC.finditer(fmt):
        for part in (spec.group("width"), spec.group("precision")):
            if part == "*":
                for arg in args:
                    meter.check_int(arg, "a '*' format width")
            elif part:
                meter.check_int(int(part[:13]), "a format width")


def _brace_widths(fmt: str, meter: _Meter, args: Iterable[Any]) -> None:
    """Refuse a ``{}``-format whose spec would pad past the cap (a nested ``{}`` width is an argument)."""
    try:
        fields = list(_FORMATTER.parse(fmt))
    except ValueError:
        return  # str.format itself reports the malformed string
    for _literal, _field, spec, _conversion in fields:
        if not spec:
            continue
        if "{" in spec:
            for arg in args:
                meter.check_int(arg, "a nested format width")
        for digits in _DIGITS.findall(spec):
            meter.check_int(int(digits[:13]), "a format width")


def _join_size(sep: str, items: list[Any]) -> int:
    return sum(len(str(i)) for i in items) + len(sep) * max(0, len(items) - 1)


class _BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with budget hooks: intercepted operators, guarded methods and filters, meter calls."""

    code_generator_class = _BudgetCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.globals.pop("lipsum", None)  # lipsum(n=10**6) is a loop no meter can see into
        self.filters = {name: _guard_filter(name, fn) for name, fn in self.filters.items()}

    # called by the generated code
    def budget_tick(self) -> None:
        _meter().tick()

    def budget_out(self, text: str) -> str:
        _meter().emit(len(text))
        return text

    def budget_value(self, value: Any, what: str) -> Any:
        size = _size(value)
        if size is not None:
            _meter().check_size(size, f"the result of {what!r}")
        return value

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        """``+ * ** %`` with the size of the result checked before it is computed."""
        meter = _meter()
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                seq_size = _size(seq)
                if seq_size is not None and isinstance(count, int):
                    meter.check_size(seq_size * max(0, count), "a repeated value ('*')")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                raise TemplateError("template refused: a product of integers that large ('*')")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1 \
                    and right * math.log2(abs(left)) > _MAX_INT_BITS:
                raise TemplateError("template refused: a power that large ('**')")
        elif operator == "+":
            left_size, right_size = _size(left), _size(right)
            if left_size is not None and right_size is not None:
                meter.check_size(left_size + right_size, "a concatenation ('+')")
        elif operator == "%" and isinstance(left, str):
            _percent_widths(left, meter, right if isinstance(right, tuple) else (right,))
        result = super().call_binop(context, operator, left, right)
        return self.budget_value(result, operator)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # Jinja2 names these __self/__context so that kwargs never clash
        """Calls from templates, with the ``str`` methods that grow their result checked first."""
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            meter = _meter()
            if name in ("center", "ljust", "rjust", "zfill") and args:
                meter.check_int(args[0], f"the width of {name}()")
            elif name == "expandtabs":
                meter.check_size(len(owner) * int(args[0] if args else kwargs.get("tabsize", 8)), "expandtabs()")
            elif name == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                hits = len(owner) + 1 if not old else owner.count(old)
                meter.check_size(len(owner) + hits * (len(new) - len(old)), "the result of replace()")
            elif name == "join" and args:
                items = list(args[0])
                meter.check_size(_join_size(owner, items), "the result of join()")
                args = (items, *args[1:])
        result = super().call(__context, __obj, *args, **kwargs)
        return __self.budget_value(result, "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` as the sandbox does them, with widths checked first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)

        @functools.wraps(wrapped)
        def checked(*args: Any, **kwargs: Any) -> str:
            _brace_widths(fmt, _meter(), [*args, *kwargs.values()])
            return _meter_value(wrapped(*args, **kwargs), "format()")

        return checked


def _meter_value(value: Any, what: str) -> Any:
    size = _size(value)
    if size is not None:
        _meter().check_size(size, f"the result of {what}")
    return value


def _guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose numeric arguments and (for the growing ones) result size are checked first."""
    passes = 2 if getattr(fn, "jinja_pass_arg", None) is not None else 1  # (context|env|eval_ctx,) value

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        meter = _meter()
        value = args[passes - 1] if len(args) >= passes else None
        if name in _SIZED_FILTERS:
            for arg in (*args[passes:], *kwargs.values()):
                meter.check_int(arg, f"an argument of |{name}")
        if name == "format" and isinstance(value, str):
            _percent_widths(value, meter, args[passes:])
        elif name == "join" and value is not None and not isinstance(value, str):
            items = list(value)
            sep = args[passes] if len(args) > passes else kwargs.get("d", "")
            meter.check_size(_join_size(str(sep), items), "the result of |join")
            args = (*args[:passes - 1], items, *args[passes:])
        elif name == "replace" and isinstance(value, str) and len(args) >= passes + 2:
            old, new = str(args[passes]), str(args[passes + 1])
            hits = len(value) + 1 if not old else value.count(old)
            meter.check_size(len(value) + hits * (len(new) - len(old)), "the result of |replace")
        elif name == "indent" and isinstance(value, str):
            width = args[passes] if len(args) > passes else kwargs.get("width", 4)
            pad = len(width) if isinstance(width, str) else int(width)
            meter.check_size(len(value) + (value.count("\n") + 1) * pad, "the result of |indent")
        return _meter_value(fn(*args, **kwargs), f"|{name}")

    return guarded


_ENV = _BudgetedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


# -- the API -------------------------------------------------------------------------------------------------
def _check_source(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateError(f"template is {len(source):,} characters long; the limit is {MAX_SOURCE_CHARS:,}")


@lru_cache(maxsize=512)
def _compile(source: str) -> jinja2.Template:
    _check_source(source)
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateError("template is nested too deeply to compile") from exc
    except MemoryError as exc:
        raise TemplateError("template is too large to compile") from exc


def validate(source: str) -> None:
    """Raise :class:`TemplateError` if ``source`` is not a valid template."""
    _compile(source)


def template_variables(source: str) -> set[str]:
    """Names the template reads that it does not define itself (its inputs)."""
    _check_source(source)
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc
    except RecursionError as exc:
        raise TemplateError("template is nested too deeply to parse") from exc


def render(source: str, variables: Mapping[str, Any], budget: RenderBudget | None = None) -> str:
    """Render ``source`` with ``variables`` within ``budget`` (a fresh default one when not given).

    Undefined names, sandbox escapes, blown budgets, recursion and any error the template's own code
    raises are a :class:`TemplateError`; the text is whitespace-normalised.
    """
    template = _compile(source)
    budget = budget or RenderBudget()
    meter = budget._meter()
    token = _ACTIVE.set(meter)
    try:
        text = "".join(template.generate(**dict(variables)))
    except TemplateError:
        raise
    except jinja2.UndefinedError as exc:
        match = _UNDEFINED_NAME.search(str(exc))
        name = match.group(1) if match else str(exc)
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(f"undefined template variable {name!r} (known variables: {known})") from exc
    except SecurityError as exc:
        raise TemplateError(f"template refused by the sandbox: {exc}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template failed to render: {exc}") from exc
    except RecursionError as exc:
        raise TemplateError("template recursion is too deep (a macro or loop that calls itself)") from exc
    except MemoryError as exc:
        raise TemplateError("template ran out of memory while rendering") from exc
    except Exception as exc:  # the template's own code failed (TypeError, ValueError, OverflowError…)
        raise TemplateError(f"template failed to render: {type(exc).__name__}: {exc}") from exc
    finally:
        meter.charge()
        _ACTIVE.reset(token)
    return _SPACES.sub(" ", text).strip()
