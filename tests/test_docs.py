"""Docs are tested: every CLI command has help, every plugin and protocol is documented, ``__all__`` is complete."""

from __future__ import annotations

import importlib
import pkgutil

import typer.main

import workbench
from workbench.cli import app
from workbench.plugins import available, load


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        out.append((prefix + name, cmd))
        if hasattr(cmd, "commands"):
            out += _commands(cmd, prefix + name + " ")
    return out


def test_every_cli_command_has_help() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert len(commands) > 20
    missing = [name for name, cmd in commands if not (cmd.help or "").strip()]
    assert missing == []
    undocumented = [f"{name} {p.name}" for name, cmd in commands for p in cmd.params
                    if type(p).__name__.endswith("Option") and not p.hidden and not (p.help or "").strip()
                    and p.name not in ("help",)]
    assert undocumented == []


def test_every_plugin_is_documented_and_loads() -> None:
    for kind in ("engine", "channel", "tagger"):
        eps = available(kind)
        assert eps, kind
        for name in eps:
            plugin = load(kind, name)
            assert (plugin.__doc__ or "").strip(), f"{kind} {name} has no docstring"


def test_public_api_is_explicit_and_complete() -> None:
    for name in workbench.__all__:
        assert hasattr(workbench, name), name
    public_methods = [m for m in dir(workbench.Workbench) if not m.startswith("_")]
    undocumented = [m for m in public_methods
                    if callable(getattr(workbench.Workbench, m)) and not (getattr(workbench.Workbench, m).__doc__ or "").strip()]
    assert undocumented == []


def test_every_module_has_a_design_docstring() -> None:
    missing = []
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        if not (module.__doc__ or "").strip():
            missing.append(info.name)
    assert missing == []
