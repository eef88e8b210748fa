"""Auto-tagging: run every available tagger plugin on a version and record its tags.

``wb.library.autotag(version_id)`` decodes the version once (downscaled to the largest ``max_side`` any tagger
wants), builds a :class:`~workbench.plugins.tagger.TagContext` from the ledger (asset, SKU, and the run's
prompt, variables, engine and params when the version was generated), runs the taggers named in settings
``[tagging] taggers`` (default: every registered one), skips those that report themselves unavailable
(an unset API key) and records each tag (:func:`workbench.library.tags.insert_tags`) with the tagger's name as source. A tagger
that fails is recorded as a ``tag.error`` event and the others still run: tagging never blocks a commit.

Tagging is resumable work (:mod:`workbench.library.derived`): ingest and commit record it as pending with the
version, :func:`finish_tagging` does what is pending (after a crash, on a re-run, from ``workbench tags
--refresh``) and records a failure as a ``failed`` attempt to retry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError, redact, without_reprs
from ..ledger import queries as q
from ..plugins import registry
from ..plugins.tagger import Tag, TagContext, Tagger
from ..secrets import known_secrets
from . import derived
from .tags import insert_tags

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["autotag", "finish_tagging", "load_taggers"]

_log = logging.getLogger("workbench.library.tagging")


def load_taggers(project: Project, names: Sequence[str | Tagger] | None = None) -> list[Tagger]:
    """Instantiate the taggers ``names`` (default: settings ``tagging.taggers``, else all registered).

    Items may also be tagger instances (a notebook's own tagger, or a test's), used as they are.
    """
    wanted = names or project.settings.get("tagging.taggers") or registry.names("tagger")
    out = []
    for item in wanted:
        if isinstance(item, Tagger):
            out.append(item)
            continue
        cls = registry.load("tagger", item)
        out.append(cls(project.settings.get(f"tagging.{item}") or {}))
    return out


def _context(con: Any, version: dict[str, Any]) -> TagContext:
    run = q.row(con, "SELECT * FROM runs WHERE id = ?", [version["run_id"]]) if version.get("run_id") else None

    def js(v: Any) -> Any:
        return json.loads(v) if isinstance(v, str) else (v or {})

    return TagContext(
        version_id=version["id"], asset_id=version["asset_id"], asset_name=version["asset_name"], sku=version["sku"],
        sha256=version["sha256"], width=version.get("width"), height=version.get("height"),
        prompt=run["prompt"] if run else None, negative_prompt=run["negative_prompt"] if run else None,
        variables=js(run["variables"]) if run else {}, params=js(run["params"]) if run else {},
        engine=run["engine"] if run else None, model=run["model"] if run else None,
        recipe_name=run["recipe_name"] if run else None,
    )


def autotag(project: Project, version_id: str, taggers: Sequence[str | Tagger] | None = None, *,
            resume: bool = False) -> dict[str, Any]:
    """Tag ``version_id`` with every available tagger; return ``{"tags": [...], "skipped": {...}, "errors": {...}}``.

    The tags are written with the version's ``done`` derived-work row (:mod:`.derived`) in one transaction.
    With ``resume`` (finishing pending work) nothing is written when the work was finished meanwhile (by
    another process), so resumed tagging never doubles tags; the result then has ``"already_done": True``.
    """
    from ..imaging.decode import DecodeLimits
    from ..imaging.load import load_image

    if resume:
        with project.ledger.connect() as con:
            if derived.is_done(con, version_id):
                return {"version_id": version_id, "tags": [], "skipped": {}, "errors": {}, "already_done": True}

    with project.ledger.connect() as con:
        version = q.require_version(con, version_id)
        version_id = version["id"]
        context = _context(con, version)
    instances = load_taggers(project, taggers)
    skipped = {t.name: reason for t in instances if (reason := t.unavailable_reason())}
    runnable = [t for t in instances if t.name not in skipped]
    found: list[tuple[str, Tag]] = []
    errors: dict[str, str] = {}
    if runnable:
        image = load_image(project.store.get(version["sha256"]), max_side=max(t.max_side for t in runnable),
                           limits=DecodeLimits.from_settings(project.settings))
        for tagger in runnable:
            copy = image
            if max(image.size) > tagger.max_side:
                copy = image.copy()
                copy.thumbnail((tagger.max_side, tagger.max_side))
            try:
                found += [(tagger.name, tag) for tag in tagger.tag(copy, context)]
            except WorkbenchError as exc:
                errors[tagger.name] = redact(str(exc), known_secrets())
            except Exception as exc:  # a third-party tagger's bug must not block the commit
                _log.warning("tagger %s failed on %s: %r", tagger.name, version_id, exc)
                errors[tagger.name] = redact(without_reprs(f"{type(exc).__name__}: {exc}"), known_secrets())
    with project.ledger.connect(write=True) as con:
        if resume and derived.is_done(con, version_id):
            return {"version_id": version_id, "tags": [], "skipped": {}, "errors": {}, "already_done": True}
        by_source: dict[str, list[dict[str, Any]]] = {}
        for source, tag in found:
            by_source.setdefault(source, []).append(tag.to_dict())
        for source, tags in by_source.items():
            insert_tags(con, "version", version_id, tags, source=source)
        for name, message in errors.items():
            project.events.record(con, "tag.error", "version", version_id, {"tagger": name, "error": message})
        project.events.record(con, "tag.auto", "version", version_id,
                        {"count": len(found), "taggers": [t.name for t in runnable], "skipped": skipped})
        derived.mark_done(con, version_id, project.user)
    return {"version_id": version_id, "tags": [{**t.to_dict(), "source": s} for s, t in found],
            "skipped": skipped, "errors": errors}


def finish_tagging(project: Project, version_ids: Sequence[str] | None = None,
                   taggers: Sequence[str | Tagger] | None = None) -> dict[str, Any]:
    """Do the pending tagging work (of ``version_ids``, or all of it); return ``{"tagged", "failed",
    "already_done", "errors": {version_id: reason}}``. A version that cannot be tagged gets a ``failed``
    attempt with the reason and stays pending for the next repair."""
    with project.ledger.connect() as con:
        todo = [w["version_id"] for w in derived.pending(con, version_ids)]
    out: dict[str, Any] = {"tagged": 0, "failed": 0, "already_done": 0, "errors": {}}
    instances = load_taggers(project, taggers) if todo else []
    for version_id in todo:
        try:
            result = autotag(project, version_id, instances, resume=True)
        except WorkbenchError as exc:
            message = redact(without_reprs(str(exc)), known_secrets())
            with project.ledger.connect(write=True) as con:
                derived.mark_failed(con, version_id, message, project.user)
                project.events.record(con, "tag.error", "version", version_id, {"error": message})
            out["failed"] += 1
            out["errors"][version_id] = message
            continue
        out["already_done" if result.get("already_done") else "tagged"] += 1
    return out
