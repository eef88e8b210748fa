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

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError, redact, without_reprs
from ..executor import Executor, Outcome, Task, WorkerContext, open_executor
from ..imaging.decode import DecodeLimits
from ..ledger import queries as q
from ..plugins import registry
from ..plugins.tagger import Tag, TagContext, Tagger
from ..secrets import known_secrets
from . import derived
from .tags import insert_tags

if TYPE_CHECKING:
    from ..project import Project

__all__ = ["autotag", "finish_tagging", "load_taggers", "tag_task"]

_TAG_TASK = "workbench.library.tagging:tag_task"
_TAG_CHUNK = 256  # versions per round trip to the executor

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


def _run_taggers(taggers: Sequence[Tagger], image: Any, context: TagContext,
                 version_id: str | None) -> tuple[list[tuple[str, Tag]], dict[str, str]]:
    """Run each tagger on a copy of ``image`` downscaled to its ``max_side``: the tags found (source, tag)
    and the taggers that failed (name, reason); a tagger's failure never stops the others."""
    found: list[tuple[str, Tag]] = []
    errors: dict[str, str] = {}
    for tagger in taggers:
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
    return found, errors


def _decode(data: bytes, taggers: Sequence[Tagger], limits: DecodeLimits) -> Any:
    """The image once, downscaled to the largest ``max_side`` of ``taggers``."""
    from ..imaging.load import load_image

    return load_image(data, max_side=max(t.max_side for t in taggers), limits=limits)


def tag_task(payload: dict[str, Any], ctx: WorkerContext) -> dict[str, Any]:
    """Worker side of :func:`finish_tagging`: decode one version's blob once and run the named taggers on it.

    ``payload``: ``sha256``, ``taggers`` (``[[name, options], ...]``: registered taggers that need no
    credential, so no secret ever travels with a task), the :class:`TagContext` fields as ``context`` and
    the decode ``limits``. Returns ``{"tags": [[source, tag dict], ...], "errors": {name: reason}}``; an
    image that cannot be decoded raises (:class:`~workbench.errors.ImageError`) and fails the task.
    """
    taggers = [registry.load("tagger", name)(options) for name, options in payload["taggers"]]
    image = _decode(ctx.store.get(payload["sha256"]), taggers, DecodeLimits(**payload["limits"]))
    context = TagContext(**payload["context"])
    found, errors = _run_taggers(taggers, image, context, context.version_id)
    return {"tags": [[source, tag.to_dict()] for source, tag in found], "errors": errors}


def _offloaded(project: Project, wanted: Sequence[str | Tagger] | None,
               instances: Sequence[Tagger]) -> dict[str, Any]:
    """The taggers that can run on the executor, by name with their options: those named (not handed in as
    instances) that need no credential. API-backed taggers stay in the driver: they wait on the network,
    not the CPU, and their keys stay on this machine."""
    named = [n for n in (wanted or project.settings.get("tagging.taggers") or registry.names("tagger"))
             if isinstance(n, str)]
    return {t.name: dict(project.settings.get(f"tagging.{t.name}") or {}) for t in instances
            if t.name in named and not type(t).secret_names}


def _write(project: Project, version_id: str, found: list[tuple[str, Tag]], errors: dict[str, str],
           ran: list[str], skipped: dict[str, str], resume: bool) -> bool:
    """Record a version's tags, errors and ``done`` row in one transaction; False when ``resume`` and the
    work was finished meanwhile (by another process), so nothing was written."""
    with project.ledger.connect(write=True) as con:
        if resume and derived.is_done(con, version_id):
            return False
        by_source: dict[str, list[dict[str, Any]]] = {}
        for source, tag in found:
            by_source.setdefault(source, []).append(tag.to_dict())
        for source, tags in by_source.items():
            insert_tags(con, "version", version_id, tags, source=source)
        for name, message in errors.items():
            project.events.record(con, "tag.error", "version", version_id, {"tagger": name, "error": message})
        project.events.record(con, "tag.auto", "version", version_id,
                              {"count": len(found), "taggers": ran, "skipped": skipped})
        derived.mark_done(con, version_id, project.user)
    return True


def _result(version_id: str, found: list[tuple[str, Tag]], skipped: dict[str, str],
            errors: dict[str, str]) -> dict[str, Any]:
    return {"version_id": version_id, "tags": [{**t.to_dict(), "source": s} for s, t in found],
            "skipped": skipped, "errors": errors}


def _already_done(version_id: str) -> dict[str, Any]:
    return {"version_id": version_id, "tags": [], "skipped": {}, "errors": {}, "already_done": True}


def autotag(project: Project, version_id: str, taggers: Sequence[str | Tagger] | None = None, *,
            resume: bool = False) -> dict[str, Any]:
    """Tag ``version_id`` with every available tagger in this process; return ``{"tags": [...], "skipped":
    {...}, "errors": {...}}``.

    The tags are written with the version's ``done`` derived-work row (:mod:`.derived`) in one transaction.
    With ``resume`` (finishing pending work) nothing is written when the work was finished meanwhile (by
    another process), so resumed tagging never doubles tags; the result then has ``"already_done": True``.
    """
    if resume:
        with project.ledger.connect() as con:
            if derived.is_done(con, version_id):
                return _already_done(version_id)
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
        image = _decode(project.store.get(version["sha256"]), runnable, DecodeLimits.from_settings(project.settings))
        found, errors = _run_taggers(runnable, image, context, version_id)
    if not _write(project, version_id, found, errors, [t.name for t in runnable], skipped, resume):
        return _already_done(version_id)
    return _result(version_id, found, skipped, errors)


def finish_tagging(project: Project, version_ids: Sequence[str] | None = None,
                   taggers: Sequence[str | Tagger] | None = None, *,
                   executor: Executor | str | None = None) -> dict[str, Any]:
    """Do the pending tagging work (of ``version_ids``, or all of it); return ``{"tagged", "failed",
    "already_done", "errors": {version_id: reason}}``. A version that cannot be tagged gets a ``failed``
    attempt with the reason and stays pending for the next repair.

    The decoding and the taggers that need no credential run on ``executor`` (an executor or a Dask
    scheduler address; default the project's ``[executor]``, see :func:`~workbench.executor.open_executor`),
    one task per version (:func:`tag_task`); API-backed taggers and tagger instances handed in run here.
    The driver writes each version's tags, so workers never open the ledger. Tags are the same wherever the
    work ran.
    """
    with project.ledger.connect() as con:
        todo = [w["version_id"] for w in derived.pending(con, version_ids)]
    out: dict[str, Any] = {"tagged": 0, "failed": 0, "already_done": 0, "errors": {}}
    if not todo:
        return out
    instances = load_taggers(project, taggers)
    skipped = {t.name: reason for t in instances if (reason := t.unavailable_reason())}
    runnable = [t for t in instances if t.name not in skipped]
    remote = _offloaded(project, taggers, runnable)
    here = [t for t in runnable if t.name not in remote]
    own = not isinstance(executor, Executor)
    ex = executor if isinstance(executor, Executor) else (
        open_executor(project.settings, address=executor) if remote else None)
    try:
        for start in range(0, len(todo), _TAG_CHUNK):  # each chunk's tags land before the next is sent
            _tag_chunk(project, todo[start:start + _TAG_CHUNK], runnable, remote, here, skipped, ex, out)
    finally:
        if own and ex is not None:
            ex.close()
    return out


def _tag_chunk(project: Project, todo: list[str], runnable: list[Tagger], remote: dict[str, Any],
               here: list[Tagger], skipped: dict[str, str], ex: Executor | None, out: dict[str, Any]) -> None:
    """Tag the versions ``todo``: ``remote`` taggers as executor tasks, ``here`` in this process."""
    limits = DecodeLimits.from_settings(project.settings)
    with project.ledger.connect() as con:
        versions = {vid: q.require_version(con, vid) for vid in todo}
        contexts = {vid: _context(con, v) for vid, v in versions.items()}
    outcomes: dict[str, Outcome] = {}
    if remote and ex is not None:
        tasks = {vid: Task(_TAG_TASK, {"sha256": v["sha256"], "taggers": [[n, o] for n, o in remote.items()],
                                       "context": _context_dict(contexts[vid]),
                                       "limits": {"max_pixels": limits.max_pixels, "timeout_s": limits.timeout_s}})
                 for vid, v in versions.items()}
        timeout = float(project.settings.get("executor.task_timeout_s", 3600.0))
        done = ex.run(list(tasks.values()), project.store.url, timeout=timeout)
        outcomes = dict(zip(tasks, done, strict=True))
    order = {t.name: n for n, t in enumerate(runnable)}
    for version_id in todo:
        try:
            found: list[tuple[str, Tag]] = []
            errors: dict[str, str] = {}
            if version_id in outcomes:
                value = outcomes[version_id].result()
                found = [(source, Tag(**tag)) for source, tag in value["tags"]]
                errors = {n: redact(m, known_secrets()) for n, m in value["errors"].items()}
            if here:
                image = _decode(project.store.get(versions[version_id]["sha256"]), here, limits)
                more, more_errors = _run_taggers(here, image, contexts[version_id], version_id)
                found, errors = found + more, {**errors, **more_errors}
            found.sort(key=lambda st: order[st[0]])  # stable: each tagger's own order, taggers as configured
            written = _write(project, version_id, found, dict(sorted(errors.items(), key=lambda e: order[e[0]])),
                             [t.name for t in runnable], skipped, resume=True)
        except WorkbenchError as exc:
            message = redact(without_reprs(str(exc)), known_secrets())
            with project.ledger.connect(write=True) as con:
                derived.mark_failed(con, version_id, message, project.user)
                project.events.record(con, "tag.error", "version", version_id, {"error": message})
            out["failed"] += 1
            out["errors"][version_id] = message
            continue
        out["tagged" if written else "already_done"] += 1


def _context_dict(context: TagContext) -> dict[str, Any]:
    return {f.name: (dict(v) if isinstance(v := getattr(context, f.name), Mapping) else v)
            for f in dataclasses.fields(context)}
