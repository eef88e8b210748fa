"""CLI command: ``workbench models`` — the model catalogue with lifecycle and prices, optionally refreshed.

``workbench models`` lists every catalogued model of every engine: status today (active, deprecated,
retiring within 30 days, retired), release and shutdown dates, the replacement, whether it is the engine's
default, and its main rates. ``--json`` prints the whole catalogue (capabilities, dated price tables with
each rate's source URL and read date) plus each model's lifecycle. ``--refresh`` asks the providers whose
key is set (OpenAI ``GET /v1/models`` with ``shutdown_date``; Gemini ``models.list``) and records what they
said in the project (``DIR/provider-models.json``); later runs of the command, and lifecycle checks, use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import JsonOpt, ProjectOpt, console, emit

__all__ = ["models", "register"]

_REFRESHABLE = {"openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}


def _rates_summary(model: dict[str, Any]) -> str:
    prices = model.get("prices") or []
    if not prices:
        return ""
    rates = prices[-1]["rates"]
    short = {"text_input": "ti", "image_input": "ii", "text_output": "to", "image_output": "io"}
    parts = [f"{label} {rates[k]['usd_per_mtok']:g}" for k, label in short.items()
             if k in rates and "usd_per_mtok" in rates[k]]
    if "image" in rates:
        parts.append(f"${rates['image']['usd_per_image']:g}/image")
    return ", ".join(parts)


def _refresh(project_dir: Path, engines: list[str]) -> list[dict[str, Any]]:
    from ..models import record_seen, refresh_engine
    from ..secrets import has_secret
    from ..settings import Settings

    settings = Settings.load(project_dir)
    done = []
    for engine in engines:
        key = _REFRESHABLE.get(engine)
        if key is None:
            continue
        if not has_secret(key) and not (engine == "gemini" and has_secret("GOOGLE_API_KEY")):
            done.append({"engine": engine, "refreshed": False, "reason": f"{key} is not set"})
            continue
        cfg = settings.get(f"engines.{engine}") or {}
        snap = refresh_engine(engine, base_url=str(cfg.get("base_url") or ""),
                              api_version=str(cfg.get("api_version") or "v1"))
        record_seen(project_dir, snap)
        done.append({"engine": engine, "refreshed": True, "models": len(snap["models"]),
                     "fetched_at": snap["fetched_at"]})
    return done


def models(
    project: ProjectOpt = None,
    engine: Annotated[str | None, typer.Option("--engine", "-e", help="Only this engine's models.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask the providers (keys permitting) and record it.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the model catalogue: lifecycle today, replacements, defaults and dated prices (with sources)."""
    from ..models import lifecycle, load_catalogue, load_seen
    from ..project import resolve_project_dir

    catalogue = load_catalogue()
    names = [engine] if engine else list(catalogue.engines)
    project_dir = resolve_project_dir(project)
    has_project = (project_dir / "workbench.toml").exists()
    refreshed: list[dict[str, Any]] = []
    if refresh:
        if not has_project:
            from ..errors import ProjectError

            raise ProjectError(f"--refresh records what the providers said in a project; {project_dir} is not one "
                               "(workbench init DIR, or --project DIR)")
        refreshed = _refresh(project_dir, names)
    seen = load_seen(project_dir) if has_project else {}
    full = catalogue.to_dict()
    rows = []
    out: dict[str, Any] = {"engines": {}, "refreshed": refreshed, "seen": {k: {"fetched_at": v.get("fetched_at"),
                                                                             "models": len(v.get("models") or [])}
                                                                         for k, v in seen.items()}}
    for name in names:
        if name not in full:
            from ..errors import InvalidSpec

            raise InvalidSpec(f"no catalogue for engine {name!r}; catalogued: {', '.join(full)}")
        section = dict(full[name])
        for model in section["models"]:
            state = lifecycle(name, model["id"], seen=seen)
            model["lifecycle"] = state.to_dict()
            model["default"] = model["id"] == section["default"]
            rows.append({"engine": name, "model": model["id"] + (" *" if model["default"] else ""),
                         "status": state.status, "released": model["released"], "shutdown": model["shutdown"],
                         "replacement": model["replacement"], "prices": _rates_summary(model)})
        listed = {m["id"] for m in section["models"]}
        section["uncatalogued_seen"] = sorted(m["id"] for m in (seen.get(name) or {}).get("models") or []
                                              if m.get("id") not in listed)
        out["engines"][name] = section

    def human(_: Any) -> None:
        # plain lines, not a table: the rows are wide and must stay readable in a narrow terminal or a log
        print("USD per 1M tokens: ti/ii = text/image input, to/io = text/image output; * = engine default")
        for r in rows:
            when = f"shutdown {r['shutdown']}" if r["shutdown"] else f"released {r['released'] or '?'}"
            instead = f" -> {r['replacement']}" if r["replacement"] and r["status"] != "active" else ""
            print(f"{r['engine']:<7} {r['model']:<31} {r['status']:<10} {when:<20} {r['prices']}{instead}")
        for item in refreshed:
            if item["refreshed"]:
                console.print(f"{item['engine']}: provider lists {item['models']} models ({item['fetched_at']})")
            else:
                console.print(f"{item['engine']}: not refreshed ({item['reason']})")

    emit(out, as_json, human)


def register(app: typer.Typer) -> None:
    """Add this command to the main app."""
    app.command("models")(models)
