"""CLI command: ``workbench settings [KEY]`` — the project's effective settings and where each comes from.

Every setting is printed as ``key = value`` with its source: ``default`` (built in,
:data:`workbench.settings.DEFAULTS`), ``workbench.toml`` (the project's file) or the environment variable
that overrides it (``WORKBENCH_<NAME>_BASE_URL``, ``WORKBENCH_LOCK_TIMEOUT``). Then who the project is
opened as and which credentials each plugin looks for, and whether they are set (in the credentials file or
the environment) — never their values. A value under a key that names a secret (``…key``, ``…token``,
``…secret``, ``…password``) or that contains a known credential is shown redacted. ``KEY`` narrows the
listing to one setting or a table (``engines.gemini``). Reads only ``workbench.toml``: it works while
another process holds the ledger.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import JsonOpt, ProjectOpt, console, emit

__all__ = ["register", "settings"]

REDACTED = "***redacted***"
_SECRET_KEY = re.compile(r"(key|token|secret|password)s?$", re.I)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _env_override(key: str) -> str | None:
    """The environment variable that overrides ``key`` here, when it is set."""
    parts = key.split(".")
    candidates = []
    if len(parts) == 3 and parts[0] in ("engines", "channels", "taggers") and parts[2] == "base_url":
        candidates.append(f"WORKBENCH_{parts[1].upper()}_BASE_URL")
    if key == "project.lock_timeout_s":
        candidates.append("WORKBENCH_LOCK_TIMEOUT")
    return next((name for name in candidates if os.environ.get(name)), None)


def _shown(key: str, value: Any, secrets: list[str]) -> Any:
    from ..errors import redact

    if _SECRET_KEY.search(key.rsplit(".", 1)[-1]) and value not in ("", None, [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def effective_settings(root: Path) -> list[dict[str, Any]]:
    """Every setting of the project at ``root``: ``key``, ``value`` (redacted where secret) and ``source``."""
    from ..errors import ProjectError
    from ..secrets import known_secrets
    from ..settings import SETTINGS_FILE, Settings

    path = root / SETTINGS_FILE
    if not path.exists():
        raise ProjectError(f"{root} is not a workbench project (no {SETTINGS_FILE}); run `workbench init {root}` first")
    merged = _flatten(Settings.load(root).data)
    own = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
    secrets = known_secrets()
    rows = []
    for key in sorted(merged):
        value, source = merged[key], "workbench.toml" if key in own else "default"
        env = _env_override(key)
        if env is not None:
            value, source = os.environ[env], f"env {env}"
        rows.append({"key": key, "value": _shown(key, value, secrets), "source": source})
    return rows


def _credentials() -> list[dict[str, Any]]:
    """Each credential name the plugins read and where it is set (``credentials file``, ``environment``) or not."""
    from ..secrets import SECRET_NAMES, credentials_file, find_key

    path = credentials_file()
    try:
        in_file = set(tomllib.loads(path.read_text(encoding="utf-8"))) if path.exists() else set()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        in_file = set()
    rows = []
    for name in SECRET_NAMES:
        where = ("credentials file" if name in in_file else "environment" if os.environ.get(name) else None)
        rows.append({"name": name, "set": where is not None and find_key(name) is not None, "source": where})
    return rows


def _session(project: Path | None, root: Path) -> dict[str, Any]:
    from ..project import current_user, find_enclosing_project
    from ..secrets import credentials_file

    source = ("--project" if project else "env WORKBENCH_PROJECT" if os.environ.get("WORKBENCH_PROJECT")
              else "the current folder" if find_enclosing_project() else "default ./data/project")
    user_source = "env WORKBENCH_USER" if os.environ.get("WORKBENCH_USER") else "OS user"
    return {"project": str(root.resolve()), "project_source": source, "user": current_user(),
            "user_source": user_source, "credentials_file": str(credentials_file())}


def settings(
    key: Annotated[str | None, typer.Argument(help="One setting or table, e.g. engines.gemini (default: all).")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The project's effective settings with their sources (default, workbench.toml, environment), who it is
    opened as, and which credentials are set (never their values)."""
    from ..errors import InvalidSpec
    from ..project import resolve_project_dir

    root = resolve_project_dir(project)
    rows = effective_settings(root)
    if key:
        rows = [r for r in rows if r["key"] == key or r["key"].startswith(key + ".")]
        if not rows:
            raise InvalidSpec(f"no setting {key!r}; `workbench settings` lists them all")
    data = {**_session(project, root), "settings": rows, "credentials": [] if key else _credentials()}

    def human(d: dict[str, Any]) -> None:
        out = console.print
        out(f"project {d['project']} ({d['project_source']}) · user {d['user']} ({d['user_source']})",
            highlight=False, markup=False)
        width = max(len(r["key"]) for r in d["settings"])
        section = None
        for r in d["settings"]:
            head = r["key"].split(".", 1)[0]
            if head != section:
                section = head
                out(f"\n[bold]\\[{head}][/]")
            value = repr(r["value"]) if isinstance(r["value"], str) else r["value"]
            line = f"  {r['key']:<{width}} = {value}"
            out(line + ("" if r["source"] == "default" else f"   ← {r['source']}"), highlight=False, markup=False,
                soft_wrap=True)
        if d["credentials"]:
            out(f"\n[bold]credentials[/] (values never shown; file {d['credentials_file']})", highlight=False)
            for c in d["credentials"]:
                out(f"  {'✓' if c['set'] else '✗'} {c['name']}" + (f" ({c['source']})" if c["source"] else ""),
                    highlight=False, markup=False)

    emit(data, as_json, human)


def register(app: typer.Typer) -> None:
    """Add this command to the main app."""
    app.command("settings")(settings)
