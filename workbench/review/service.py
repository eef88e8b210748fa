"""The review service: commit, history, lineage, diff, review states, comments and marks, renditions and
channel checks.

``Review(project, library)``: commits create assets and versions through the library and auto-tag
them. Each method is a thin door onto one module of :mod:`workbench.review` (``commit``, ``history``,
``diff``, ``states``, ``comments``, ``renditions``/``crops``/``checks``); the modules hold the logic and
open their own short ledger transactions. Every change records an event; state transitions are also
emitted (``review.transition``) for subscribers such as the ``[review] notify`` tools, which run after
the transition has committed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q
from ..ledger.values import json_value
from . import comments as _comments
from . import states as _states

if TYPE_CHECKING:
    from ..executor import Executor
    from ..library.service import Library
    from ..project import Project

__all__ = ["Review"]



def _loads(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        row[key] = json_value(row.get(key))
    return row


class Review:
    """Review, approval and renditions of one project (``wb.review``)."""

    def __init__(self, project: Project, library: Library) -> None:
        self.project = project
        self.library = library

    def __repr__(self) -> str:
        return f"<Review {self.project.root}>"

    # -- commit / revert -------------------------------------------------------------------------------
    def commit(self, output_id: str | None = None, *, asset: str, message: str | None = None,
               parent: str | None = None, data: bytes | None = None, path: str | Path | None = None,
               author: str | None = None, sku: str | None = None, autotag: bool = True) -> str:
        """Commit a run output (or ``data``/``path``) as a new version of ``asset``; return the version id.

        The asset is created (role ``output``, SKU from the run's references) when missing; the parent
        defaults to the asset's latest version. Auto-tagging runs afterwards unless ``autotag=False``.
        Unknown output → :class:`NotFound`.
        """
        from ..fidelity.auto import check
        from .commit import commit

        check(self.project.settings)  # [fidelity] score = "commit" scores it once committed: refuse a typo first
        version_id = commit(self.library, output_id, asset=asset, message=message, parent=parent, data=data, path=path,
                            author=author, sku=sku, tag=autotag)
        if autotag:
            self.library.autotag_quietly(version_id)
        return version_id

    def revert(self, asset: str, to: str, message: str | None = None) -> str:
        """Append a version of ``asset`` that reuses version ``to``'s bytes; return the new version id."""
        from .commit import revert

        return revert(self.library, asset, to, message=message)

    # -- history, lineage, diff, reproduce ----------------------------------------------------------------
    def history(self, asset: str, *, thumbnails: bool = True) -> list[dict[str, Any]]:
        """Versions of ``asset`` (newest first) with author, message, state, marks and thumbnail path."""
        from .history import history

        return history(self.library, asset, thumbnails=thumbnails)

    def lineage(self, version_id: str) -> dict[str, Any]:
        """The lineage graph of a version: ``{"root", "nodes", "edges"}`` (see :mod:`workbench.review.history`)."""
        from ..lineage import graph

        with self.project.ledger.connect() as con:
            return graph(con, version_id)

    def diff(self, a: str, b: str, out: str | Path | None = None) -> dict[str, Any]:
        """Pixel and recipe diff of versions ``a`` and ``b``; the side-by-side PNG goes to ``out``."""
        from .diff import diff_versions

        return diff_versions(self.project, a, b, out)

    # -- review states ---------------------------------------------------------------------------------
    def _transition(self, version_id: str, action: str, note: str | None = None) -> dict[str, Any]:
        rules = dict(self.project.settings.get("review") or {})
        with self.project.ledger.connect(write=True) as con:
            if action.replace("-", "_") == "approve":
                self._fidelity_gate(con, version_id)
            row = _states.transition(con, version_id, action, self.project.user, rules, note)
            version_id = row["version_id"]  # the full id, when a unique prefix was given
            self.project.events.record(con, f"review.{action.replace('-', '_')}", "version", version_id,
                              {"from": row["from_state"], "to": row["to_state"], "note": note})
            # subscribers (the [review] notify tools) run once this transaction has committed
            self.project.events.emit("review.transition", version_id=version_id, action=action,
                             from_state=row["from_state"], to_state=row["to_state"])
        return row

    def _fidelity_gate(self, con: Any, version_id: str) -> None:
        """Refuse to approve a version whose newest fidelity report failed (``[fidelity] gate = "approve"``)
        unless that report was overridden with a reason."""
        from ..fidelity.gate import blocked, refusal

        gate = str(self.project.settings.get("fidelity.gate", "approve"))
        found = blocked(con, [version_id], "approve", gate).get(version_id)
        if found is not None:
            from ..errors import TransitionForbidden

            raise TransitionForbidden(refusal(version_id, found))

    def submit(self, version_id: str, note: str | None = None) -> dict[str, Any]:
        """draft/changes_requested → in_review."""
        return self._transition(version_id, "submit", note)

    def approve(self, version_id: str, note: str | None = None) -> dict[str, Any]:
        """in_review → approved (subject to ``[review] approvers`` and ``allow_self_approval``)."""
        return self._transition(version_id, "approve", note)

    def request_changes(self, version_id: str, note: str | None = None) -> dict[str, Any]:
        """in_review/approved → changes_requested."""
        return self._transition(version_id, "request_changes", note)

    def publish(self, version_id: str, note: str | None = None) -> dict[str, Any]:
        """approved → published."""
        return self._transition(version_id, "publish", note)

    def withdraw(self, version_id: str, note: str | None = None) -> dict[str, Any]:
        """in_review → draft."""
        return self._transition(version_id, "withdraw", note)

    def act(self, version_id: str, action: str, note: str | None = None) -> dict[str, Any]:
        """Apply any review action by name (``submit``, ``approve``, ``request-changes``, ``publish``, ``withdraw``)."""
        return self._transition(version_id, action, note)

    def state(self, version_id: str) -> dict[str, Any]:
        """Current state, allowed next actions and the full transition log of a version."""
        with self.project.ledger.connect() as con:
            version_id = q.require_version(con, version_id)["id"]
            state = _states.current_state(con, version_id)
            log = q.rows(con, "SELECT id, from_state, to_state, actor, note, created_at FROM reviews "
                                 "WHERE version_id = ? ORDER BY created_at, id", [version_id])
        return {"version_id": version_id, "state": state, "allowed": _states.allowed_actions(state), "log": log}

    def is_approved(self, version_id: str) -> bool:
        """Whether the version is approved or published (what export checks when approval is required)."""
        with self.project.ledger.connect() as con:
            return _states.current_state(con, version_id) in ("approved", "published")

    # -- comments and marks ------------------------------------------------------------------------------
    def comment(self, version_id: str, body: str, *, region: Any = None, parent_id: str | None = None) -> dict[str, Any]:
        """Comment on a version, optionally pinned to a normalised box ``x,y,w,h`` or point ``x,y`` (0..1)."""
        box = _comments.normalise_region(region)
        with self.project.ledger.connect(write=True) as con:
            version_id = q.require_version(con, version_id)["id"]
            row = _comments.add_comment(con, version_id, body, self.project.user, box, parent_id)
            self.project.events.record(con, "review.comment", "version", version_id, {"comment_id": row["id"], "region": box})
        return row

    def resolve_comment(self, comment_id: str) -> dict[str, Any]:
        """Mark a comment resolved."""
        return self._resolution(comment_id, True)

    def reopen_comment(self, comment_id: str) -> dict[str, Any]:
        """Reopen a resolved comment."""
        return self._resolution(comment_id, False)

    def _resolution(self, comment_id: str, resolved: bool) -> dict[str, Any]:
        with self.project.ledger.connect(write=True) as con:
            row = _comments.set_resolved(con, comment_id, resolved, self.project.user)
            self.project.events.record(con, "review.resolve" if resolved else "review.reopen", "comment", comment_id,
                              {"version_id": row["version_id"]})
        return row

    def comments(self, version_id: str) -> list[dict[str, Any]]:
        """Comments of a version with their resolved flag, oldest first."""
        with self.project.ledger.connect() as con:
            version_id = q.require_version(con, version_id)["id"]
            return _comments.list_comments(con, version_id)

    def mark(self, version_id: str, mark: str | None = None, rating: int | None = None) -> dict[str, Any]:
        """Set your ``select``/``alt``/``kill`` mark and/or 1..5 rating on a version."""
        with self.project.ledger.connect(write=True) as con:
            version_id = q.require_version(con, version_id)["id"]
            row = _comments.mark_version(con, version_id, self.project.user, mark, rating)
            self.project.events.record(con, "review.mark", "version", version_id, {"mark": row["mark"], "rating": row["rating"]})
        return row

    # -- renditions and checks --------------------------------------------------------------------------
    def render(self, version_ref: str, presets: list[str] | None = None, *, workers: int | None = None,
               executor: str | Executor | None = None) -> list[dict[str, Any]]:
        """Smart-crop and encode a version for ``presets`` (default: all), check each, record everything.

        ``version_ref`` is a version id, or an asset name/SKU (their latest versions). Returns the
        rendition rows, each with ``check`` = ``{"id", "passed", "report"}`` and its ``warnings``. The work
        runs on ``executor`` (an :class:`~workbench.executor.Executor`, or a Dask scheduler address), else on
        the project's ``[executor]`` (``workers`` local processes when given).
        """
        from ..executor import open_executor
        from .renditions import render_versions

        ids = [v["id"] for v in self.library.resolve_versions(version_ref)]
        if isinstance(executor, str):
            with open_executor(self.project.settings, address=executor, workers=workers) as ex:
                return render_versions(self.project, ids, presets, executor=ex)
        return render_versions(self.project, ids, presets, workers=workers, executor=executor)

    crop = render

    def renditions(self, version_id: str | None = None) -> list[dict[str, Any]]:
        """Rendition rows (of one version, or all), newest first, each with its latest check."""
        with self.project.ledger.connect() as con:
            if version_id:
                version_id = q.require_version(con, version_id)["id"]
            where, params = ("WHERE r.version_id = ?", [version_id]) if version_id else ("", [])
            rows = q.rows(con, "SELECT r.*, c.id AS check_id, c.passed, c.report, c.overridden_by, c.override_reason "
                             "FROM renditions r LEFT JOIN (SELECT * FROM checks QUALIFY row_number() OVER "
                             "(PARTITION BY rendition_id ORDER BY created_at DESC, id DESC) = 1) c "
                             f"ON c.rendition_id = r.id {where} ORDER BY r.created_at DESC, r.id DESC", params)
        return [_loads(r, "crop", "preset_spec", "warnings", "report") for r in rows]

    def rendition(self, rendition_id: str) -> dict[str, Any]:
        """One rendition with its checks (newest first)."""
        with self.project.ledger.connect() as con:
            rendition_id = q.require_id(con, "rendition", rendition_id)
            row = q.row(con, "SELECT * FROM renditions WHERE id = ?", [rendition_id])
            if row is None:
                raise NotFound(f"unknown rendition {rendition_id!r}")
            checks = q.rows(con, "SELECT * FROM checks WHERE rendition_id = ? ORDER BY created_at DESC, id DESC",
                               [rendition_id])
        row = _loads(row, "crop", "preset_spec", "warnings")
        row["checks"] = [_loads(c, "report") for c in checks]
        row["ok"] = bool(checks) and (checks[0]["passed"] or checks[0]["overridden_by"] is not None)
        return row

    def override_check(self, check_id: str, reason: str) -> dict[str, Any]:
        """Accept a failed check anyway, recording who and why; the rendition then counts as ok."""
        if not reason or not reason.strip():
            raise InvalidSpec("an override needs a reason")
        with self.project.ledger.connect(write=True) as con:
            check_id = q.require_id(con, "check", check_id)
            row = q.row(con, "SELECT * FROM checks WHERE id = ?", [check_id])
            if row is None:
                raise NotFound(f"unknown check {check_id!r}")
            con.execute("UPDATE checks SET overridden_by = ?, override_reason = ? WHERE id = ?",
                        [self.project.user, reason.strip(), check_id])
            self.project.events.record(con, "check.override", "check", check_id,
                              {"rendition_id": row["rendition_id"], "reason": reason.strip(), "passed": row["passed"]})
        return {**_loads(row, "report"), "overridden_by": self.project.user, "override_reason": reason.strip()}

    def recheck(self, rendition_id: str) -> dict[str, Any]:
        """Run the channel checks again on a stored rendition (e.g. after the rules changed); appends a check row."""
        from ..ids import new_id
        from .checks import check_rendition
        from .crops import stored_subject_geometry

        row = self.rendition(rendition_id)
        rendition_id = row["id"]
        crop, spec = row["crop"] or {}, row["preset_spec"] or {}
        subject_out, touches = stored_subject_geometry(crop)
        passed, report = check_rendition(self.project.store.get(row["sha256"]), spec, subject_out=subject_out,
                                         source_touches=touches)
        check_id = new_id("check")
        channel = str(spec.get("channel") or "web")
        with self.project.ledger.connect(write=True) as con:
            con.execute("INSERT INTO checks (id, rendition_id, channel, passed, report) VALUES (?, ?, ?, ?, ?)",
                        [check_id, rendition_id, channel, passed, json.dumps(report)])
            self.project.events.record(con, "check.rerun", "rendition", rendition_id, {"check_id": check_id, "passed": passed})
        return {"id": check_id, "rendition_id": rendition_id, "channel": channel, "passed": passed, "report": report}

    def rendition_ok(self, rendition_id: str) -> bool:
        """Whether the rendition's latest check passed or was overridden (what export asks)."""
        with self.project.ledger.connect() as con:
            rendition_id = q.resolve_id(con, "rendition", rendition_id) or rendition_id
            row = q.row(con, "SELECT passed, overridden_by FROM checks WHERE rendition_id = ? "
                                 "ORDER BY created_at DESC, id DESC LIMIT 1", [rendition_id])
            if row is None:
                if q.row(con, "SELECT id FROM renditions WHERE id = ?", [rendition_id]) is None:
                    raise NotFound(f"unknown rendition {rendition_id!r}")
                return False
        return bool(row["passed"] or row["overridden_by"])
