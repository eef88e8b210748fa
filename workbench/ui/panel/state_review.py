"""State objects of the Review, Export and Reports tabs (see :mod:`workbench.ui.panel.state`).

Each calls the core API through :meth:`~workbench.ui.panel.session.SessionState.attempt`, which checks the
session user's role on the server first: approving and requesting changes need an approver, rendering
needs an editor, exporting needs an approver.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import param

from ..auth import ACTION_ROLES
from .session import SessionState
from .state_review_fidelity import ReviewFidelity

__all__ = ["ExportState", "ReportsState", "ReviewState"]


#: review action -> the role action :func:`workbench.ui.auth.require` checks for it
ROLE_OF_ACTION = {"approve": "approve", "request_changes": "request_changes", "publish": "approve",
                  "submit": "submit", "withdraw": "submit"}
REVIEW_ACTIONS = ("submit", "withdraw", "approve", "request_changes", "publish")
_NEEDS = {"approve": "in_review", "request_changes": "in_review or approved", "publish": "approved",
          "submit": "draft or changes_requested", "withdraw": "in_review"}


def check_lines(report: Any) -> list[dict[str, Any]]:
    """A stored check report as lines ``{rule, passed, level, detail}`` (a list of dicts, whatever was stored)."""
    if isinstance(report, str):
        try:
            report = json.loads(report)
        except ValueError:
            return [{"rule": "report", "passed": False, "level": "preset", "detail": report}]
    out = []
    for line in report or []:
        if isinstance(line, dict):
            out.append({"rule": str(line.get("rule") or "?"), "passed": bool(line.get("passed")),
                        "level": str(line.get("level") or ""), "detail": str(line.get("detail") or ""),
                        "met": line.get("met")})
    return out


#: page size when the queue reads every version waiting for review
_QUEUE_PAGE = 500


def _every_asset(wb: Any, **filters: Any) -> list[dict[str, Any]]:
    """Every asset matching ``filters`` (newest first), read a page at a time: a queue of 2,000 waiting
    versions must not silently lose its oldest 1,500 to one page's limit."""
    rows: list[dict[str, Any]] = []
    while True:
        page = wb.assets(limit=_QUEUE_PAGE, offset=len(rows), **filters)
        rows += page
        if len(page) < _QUEUE_PAGE:
            return rows


def latest_renditions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest rendition per preset (``rows`` newest first, as ``wb.review.renditions`` returns them),
    by preset name, each with its check in lines and whether it may export (passed or overridden)."""
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        preset = str(r.get("preset"))
        if preset in seen:
            continue
        lines = check_lines(r.get("report"))
        passed = r.get("passed")
        seen[preset] = {**r, "lines": lines, "failed": [ln for ln in lines if not ln["passed"]],
                        "ok": bool(passed) or bool(r.get("overridden_by")), "checked": passed is not None}
    return [seen[k] for k in sorted(seen)]


class ReviewState(ReviewFidelity):
    """Review tab: history, diff, region comments, review transitions, the review queue, channel checks,
    product fidelity (:class:`ReviewFidelity`) and tags of one asset's versions.

    The queue is every output whose latest version waits for review (``in_review``); :meth:`step` walks it,
    and an approval or a change request moves on to the next. Approving a version with open (unresolved)
    comments needs a second, confirming call: the first one only warns.
    """

    asset = param.String(default="", doc="Asset id or name under review.")
    history = param.List(default=[])
    version_id = param.String(default="")
    compare_id = param.String(default="")
    review = param.Dict(default={}, doc="wb.review.state(version): state, allowed actions, log.")
    comments = param.List(default=[])
    tags = param.List(default=[])
    checks = param.List(default=[], doc="Newest rendition per preset of the version, with its check lines.")
    diff = param.Dict(default={})
    diff_png = param.Parameter(default=None, doc="Path of the side-by-side/difference sheet.")
    region_x = param.Number(default=0.25, bounds=(0, 1))
    region_y = param.Number(default=0.25, bounds=(0, 1))
    region_w = param.Number(default=0.5, bounds=(0, 1))
    region_h = param.Number(default=0.5, bounds=(0, 1))
    pin_region = param.Boolean(default=False)
    queue = param.List(default=[], doc="Assets whose latest version is in review, oldest first.")
    queue_pos = param.Integer(default=-1, doc="Index in :attr:`queue` of the asset shown (-1: not from the queue).")
    warning = param.String(default="", doc="Why the last approve was held back (open comments); empty otherwise.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session
        events = getattr(getattr(session.wb, "project", None), "events", None)
        if events is not None:  # a commit anywhere in this session (the Studio's) shows here next
            events.subscribe("review.commit", self._committed)

    def _committed(self, payload: dict[str, Any]) -> None:
        asset_id = str(payload.get("asset_id") or "")
        if not asset_id:
            return
        if self.asset == asset_id:
            self.load()
        else:
            self.asset = asset_id

    @property
    def region(self) -> dict[str, float] | None:
        """The region box being drawn (normalised, clipped to the image), or None when not pinned."""
        if not self.pin_region:
            return None
        w = min(self.region_w, 1 - self.region_x)
        h = min(self.region_h, 1 - self.region_y)
        return {"x": round(self.region_x, 4), "y": round(self.region_y, 4), "w": round(w, 4), "h": round(h, 4)}

    @property
    def open_comments(self) -> list[dict[str, Any]]:
        """Comments of the selected version not resolved yet."""
        return [c for c in self.comments if not c.get("resolved")]

    def current(self) -> dict[str, Any] | None:
        """The selected version's history row."""
        return next((v for v in self.history if v.get("id") == self.version_id), None)

    @param.depends("asset", watch=True)
    def load(self) -> None:
        """Load the asset's history and select its newest version."""
        self.warning = ""
        if not getattr(self, "_queued", False):
            self.queue_pos = -1  # opened some other way: no longer walking the queue
        if not self.asset:
            self.history = []
            self.version_id = ""
            return
        wb = self.session.wb
        rows = self.session.attempt("view", lambda: wb.history(self.asset, thumbnails=False))
        self.history = list(rows or [])
        newest = self.history[0]["id"] if self.history else ""
        older = self.history[1]["id"] if len(self.history) > 1 else ""
        self.compare_id = older
        if self.version_id == newest:
            self.refresh()
        else:
            self.version_id = newest

    @param.depends("version_id", watch=True)
    def refresh(self) -> None:
        """Reload the selected version's review state, comments, channel checks and tags."""
        self.warning = ""
        if not self.version_id:
            self.review, self.comments, self.tags, self.checks, self.fidelity = {}, [], [], [], {}
            return
        wb, vid = self.session.wb, self.version_id

        def load() -> tuple[Any, ...]:
            with wb.ledger.connect():  # one connection for the four reads
                return (wb.review.state(vid), wb.review.comments(vid), wb.library.tags_of("version", vid),
                        wb.review.renditions(vid))

        found = self.session.attempt("view", load)
        review, comments, tags, renditions = found or ({}, [], [], [])
        self.param.update(review=review, comments=list(comments), tags=list(tags),
                          checks=latest_renditions(list(renditions)))
        self.load_fidelity()  # on its own: a fidelity read that fails must not hide the review

    def _reload(self) -> None:
        wb = self.session.wb
        rows = self.session.attempt("view", lambda: wb.history(self.asset, thumbnails=False))
        if rows is not None:
            self.history = list(rows)
        self.refresh()

    # -- the queue --------------------------------------------------------------------------------------
    def load_queue(self) -> list[dict[str, Any]]:
        """Refresh :attr:`queue`: outputs whose latest version is in review, oldest first."""
        wb = self.session.wb
        rows = self.session.attempt("view", lambda: _every_asset(wb, state="in_review", role="output")) or []
        self.queue = [{"asset_id": str(r["id"]), "name": str(r["name"]), "sku": r.get("sku"),
                       "version_id": str(r["version_id"]), "version": r.get("version"), "sha256": r.get("sha256")}
                      for r in reversed(list(rows))]
        return self.queue

    def step(self, delta: int = 1) -> bool:
        """Show the next (``delta`` 1) or previous (-1) queued version; False when the queue has no more."""
        if not self.queue:
            self.load_queue()
        if not self.queue:
            self.queue_pos = -1
            self.session.say("Nothing waits for review.", "info")
            return False
        pos = self.queue_pos + delta if self.queue_pos >= 0 else (0 if delta >= 0 else len(self.queue) - 1)
        if not 0 <= pos < len(self.queue):
            self.session.say("End of the review queue." if delta > 0 else "Start of the review queue.", "info")
            return False
        self._show(pos)
        return True

    def _show(self, pos: int) -> None:
        asset_id = self.queue[pos]["asset_id"]
        self._queued = True
        try:
            if self.asset == asset_id:
                self.load()
            else:
                self.asset = asset_id
        finally:
            self._queued = False
        self.queue_pos = pos

    def _advance(self) -> None:
        """After a decision on a queued version (it has left the queue): show the one now in its place."""
        if self.queue_pos < 0:
            return
        pos = self.queue_pos
        if not self.load_queue():
            self.queue_pos = -1
            self.session.say("Review queue done: nothing else waits for review.", "success")
            return
        self._show(min(pos, len(self.queue) - 1))

    # -- reasons ----------------------------------------------------------------------------------------
    def reasons(self) -> dict[str, str]:
        """Why each review action is unavailable now (empty string: it is available).

        The role, the version's state and the ``[review]`` rules, in words, so a disabled button can say
        why. The server checks all of it again when the action is taken.
        """
        out: dict[str, str] = {}
        user = self.session.user
        state = str(self.review.get("state") or "")
        allowed = set(self.review.get("allowed") or [])
        cur = self.current() or {}
        settings = self.session.wb.settings
        approvers = list(settings.get("review.approvers") or [])
        self_ok = bool(settings.get("review.allow_self_approval", True))
        for action in REVIEW_ACTIONS:
            role_action = ROLE_OF_ACTION[action]
            label = action.replace("_", " ")
            if not self.version_id:
                out[action] = "open a version first"
            elif not user.can(role_action):
                need = ACTION_ROLES.get(role_action, "?")
                out[action] = f"{label} needs the {need} role; you are {user.role}"
            elif action not in allowed:
                out[action] = f"{label} needs a version {_NEEDS[action]}; this one is {state or 'draft'}"
            elif action in ("approve", "publish", "request_changes") and approvers and user.name not in approvers:
                out[action] = f"only {', '.join(approvers)} may {label} ([review] approvers)"
            elif action == "approve" and not self_ok and cur.get("author") == user.name:
                out[action] = "you authored this version ([review] allow_self_approval = false)"
            elif action == "approve" and self.fidelity_block():
                out[action] = self.fidelity_block()
            else:
                out[action] = ""
        return out

    # -- actions ----------------------------------------------------------------------------------------
    def add_comment(self, body: str) -> Any:
        """Comment on the selected version, pinned to :attr:`region` when set (any signed-in role)."""
        if not body.strip():
            self.session.say("Write a comment first.", "warning")
            return None
        wb, vid, region = self.session.wb, self.version_id, self.region
        row = self.session.attempt("comment", lambda: wb.review.comment(vid, body, region=region), "Comment added")
        if row is not None:
            self.pin_region = False
            self.refresh()
        return row

    def resolve(self, comment_id: str, resolved: bool = True) -> Any:
        """Resolve (or reopen) a comment of the selected version (editors and up)."""
        wb = self.session.wb
        call = wb.review.resolve_comment if resolved else wb.review.reopen_comment
        row = self.session.attempt("submit", lambda: call(comment_id),
                                   "Comment resolved" if resolved else "Comment reopened")
        if row is not None:
            self.refresh()
        return row

    def approve(self, note: str = "", *, confirm: bool = False) -> Any:
        """Approve the selected version; with open comments, only warn unless ``confirm``."""
        open_now = self.open_comments
        if open_now and not confirm and self.session.can("approve"):  # (anyone else hears the role's refusal)
            n = len(open_now)
            self.warning = (f"{n} open comment{'s' if n > 1 else ''} on this version: resolve "
                            f"{'them' if n > 1 else 'it'} first, or approve anyway.")
            self.session.say(self.warning, "warning")
            return None
        return self.transition("approve", note)

    def transition(self, action: str, note: str = "") -> Any:
        """Apply a review action (submit, approve, request_changes, publish, withdraw) to the selected version.

        The role check runs here on the server: approve/request_changes/publish need the approver role.
        """
        role_action = ROLE_OF_ACTION.get(action)
        if role_action is None:
            self.session.say(f"unknown review action {action!r}", "error")
            return None
        wb, vid = self.session.wb, self.version_id
        row = self.session.attempt(role_action, lambda: wb.review.act(vid, action, note or None))
        if row is not None:
            self.warning = ""
            self._reload()
            self.session.say(f"{action.replace('_', ' ').capitalize()}: done", "success")
            if action in ("approve", "request_changes"):
                self._advance()
        return row

    def add_tag(self, tag: str) -> Any:
        """Tag the selected version (editors and up)."""
        tag = tag.strip()
        if not tag:
            return None
        wb, vid = self.session.wb, self.version_id
        done = self.session.attempt("tag", lambda: wb.library.add_tags("version", vid, [tag], source="user"),
                                    f"Tagged {tag}")
        self.refresh()
        return done

    def run_diff(self) -> Any:
        """Pixel and prompt diff of the selected version against :attr:`compare_id`."""
        if not (self.version_id and self.compare_id) or self.version_id == self.compare_id:
            self.session.say("Choose two different versions to compare.", "warning")
            return None
        wb, a, b = self.session.wb, self.compare_id, self.version_id
        out = Path(wb.project.cache_dir) / "diffs" / f"{a}_{b}.png"
        result = self.session.attempt("view", lambda: wb.review.diff(a, b, out=out))
        if result is not None:
            self.param.update(diff_png=result.get("out"), diff=result)
        return result


class ExportState(param.Parameterized):
    """Export tab: choose a channel and approved versions, render and see the renditions (crop box, check
    report in words), override a failed check with a reason, dry-run the plan, run it, see status per item."""

    channel = param.String(default="folder")
    versions = param.List(default=[], doc="Version ids to export (approved ones are offered).")
    skus = param.String(default="", doc="Comma-separated SKUs (their approved versions).")
    presets = param.List(default=[], doc="Rendition presets to render and export (empty = all).")
    plan_items = param.List(default=[])
    refused = param.List(default=[])
    result_items = param.List(default=[])
    status_rows = param.List(default=[])
    destination = param.String(default="")
    renditions = param.List(default=[], doc="Per chosen version, the newest rendition of each preset with its "
                                             "check lines, the version's name and source sha.")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    def channel_options(self) -> list[str]:
        """Channels that are installed (ready or not)."""
        wb = self.session.wb
        rows = self.session.attempt(None, wb.export.channels) or []
        return [str(r["name"]) for r in rows if r.get("available", True)]

    def approved_options(self) -> dict[str, str]:
        """Label → version id of every asset whose latest version is approved or published (all of them, a
        page at a time: a catalogue with 3,000 approved assets offers all 3,000, not the newest 500)."""
        wb = self.session.wb
        rows: list[dict[str, Any]] = []
        for state in ("approved", "published"):
            rows += self.session.attempt(None, functools.partial(_every_asset, wb, state=state)) or []
        return {f"{r['name']} v{r.get('version')} ({r.get('state')})": str(r["version_id"]) for r in rows}

    def _selectors(self) -> dict[str, Any]:
        skus = [s.strip() for s in self.skus.split(",") if s.strip()]
        return {"versions": list(self.versions), "skus": skus, "presets": list(self.presets)}

    def preset_options(self) -> list[str]:
        """Rendition presets from the project settings."""
        presets = self.session.wb.settings.get("renditions.presets") or {}
        return sorted(presets)

    def sku_versions(self) -> list[str]:
        """The latest version of each output asset of the typed SKUs (what the plan would export for them)."""
        wb = self.session.wb
        skus = self._selectors()["skus"]

        def find() -> list[str]:
            with wb.ledger.connect():
                return [str(r["version_id"]) for sku in skus
                        for r in _every_asset(wb, sku=sku, role="output") if r.get("version_id")]

        return list(self.session.attempt(None, find) or []) if skus else []

    def chosen_versions(self) -> list[str]:
        """The chosen versions, then those of the typed SKUs, each once."""
        return list(dict.fromkeys([*self.versions, *self.sku_versions()]))

    @param.depends("versions", "skus", watch=True)
    def load_renditions(self) -> list[dict[str, Any]]:
        """Refresh :attr:`renditions` for the chosen versions and SKUs (and, after a plan, the versions it names)."""
        wb = self.session.wb
        planned = [str(i.get("version_id")) for i in [*self.plan_items, *self.refused] if i.get("version_id")]
        ids = list(dict.fromkeys([*self.chosen_versions(), *planned]))

        def load() -> list[dict[str, Any]]:
            out = []
            with wb.ledger.connect():
                for vid in ids:
                    version = wb.library.version(vid)
                    for r in latest_renditions(wb.review.renditions(vid)):
                        out.append({**r, "asset": version.get("asset_name"), "number": version.get("number"),
                                    "source_sha256": version.get("sha256")})
            return out

        self.renditions = list(self.session.attempt("view", load) or []) if ids else []
        return self.renditions

    def failed_checks(self) -> dict[str, str]:
        """Label → check id of the shown renditions whose check failed and is not overridden yet."""
        return {f"{r['asset']} v{r['number']} · {r['preset']}: "
                + "; ".join(ln["rule"] for ln in r["failed"]): str(r["check_id"])
                for r in self.renditions if r.get("check_id") and r["checked"] and not r["ok"]}

    def override(self, check_id: str, reason: str) -> Any:
        """Accept a failed check anyway, recording who and why (approvers; the reason is required)."""
        wb = self.session.wb
        if not check_id:
            self.session.say("Choose the failed check to override first.", "warning")
            return None
        if not reason.strip():
            self.session.say("An override needs a reason: say why this rendition may go out anyway.", "warning")
            return None
        row = self.session.attempt("export", lambda: wb.review.override_check(check_id, reason),
                                   "Check overridden; the rendition may export")
        if row is not None:
            self.load_renditions()
        return row

    def render(self, presets: list[str] | None = None) -> Any:
        """Make (and check) renditions of the selected versions for ``presets`` (default: :attr:`presets`;
        empty = every preset). Editors and up."""
        wb = self.session.wb
        presets = list(presets if presets is not None else self.presets)
        chosen = self.chosen_versions()
        if not chosen:
            self.session.say("Choose versions (or type SKUs that have outputs) to render first.", "warning")
            return None

        def go() -> list[Any]:
            return [r for v in chosen for r in wb.render(v, list(presets) if presets else None)]

        rows = self.session.attempt("commit", go)
        if rows is not None:
            failed = sum(1 for r in rows if not (r.get("check") or {}).get("passed", True))
            self.session.say(f"Rendered {len(rows)} rendition(s); {failed} failed a channel check"
                             + (" (see the renditions below)" if failed else ""),
                             "warning" if failed else "success")
            self.load_renditions()
        return rows

    def plan(self) -> Any:
        """Dry run: what would be sent, replaced, skipped or refused (nothing is written)."""
        wb = self.session.wb
        report = self.session.attempt("view", lambda: wb.export.plan(self.channel, **self._selectors()))
        if report is not None:
            self.destination = str(report.destination)
            self.plan_items, self.refused = list(report.items), list(report.refused)
            self.result_items = []
            self.session.say(f"Plan for {self.channel}: " + ", ".join(f"{v} {k}" for k, v in report.counts.items())
                             + (f"; {len(report.refused)} refused (reasons below)" if report.refused else ""))
            self.load_renditions()
        return report

    def run(self) -> Any:
        """Export for real (approvers only)."""
        wb = self.session.wb
        report = self.session.attempt("export", lambda: wb.export(self.channel, **self._selectors()))
        if report is not None:
            self.destination = str(report.destination)
            self.result_items, self.refused = list(report.items), list(report.refused)
            failed = len(report.failed)
            self.session.say(f"Exported to {report.destination}: "
                             + ", ".join(f"{v} {k}" for k, v in report.counts.items()),
                             "warning" if failed else "success")
            self.refresh_status()
        return report

    def refresh_status(self) -> None:
        """Status per item: what each destination slot holds now."""
        wb = self.session.wb
        rows = list(self.session.attempt("view", lambda: wb.export.history(self.channel or None, current=True)) or [])
        ids = sorted({str(r["asset_id"]) for r in rows if r.get("asset_id")})
        names = {}
        if ids:  # people read asset names and SKUs, not ids
            found = self.session.attempt("view", lambda: wb.sql(
                "SELECT id, name, sku FROM assets WHERE list_contains(?, id)", [ids])) or []
            names = {str(a["id"]): a for a in found}
        rows_out = []
        for r in rows:
            asset = names.get(str(r.get("asset_id"))) or {}
            rows_out.append({"asset": asset.get("name"), "sku": asset.get("sku"), **r})
        self.status_rows = rows_out


class ReportsState(param.Parameterized):
    """Reports tab: the savings report as HTML (from the reports area's ``wb.savings_report``)."""

    html = param.String(default="")

    def __init__(self, session: SessionState, **params: Any) -> None:
        super().__init__(**params)
        self.session = session

    def render(self, fmt: str = "html") -> str | bytes:
        """The report as HTML text or PDF bytes, from the ledger as it is now (safe in a worker thread).

        Returns an empty value when it cannot be built (the status says why); sets no parameters.
        """
        body = self.session.attempt("view", lambda: self.session.wb.savings_report(fmt=fmt))
        return body if body is not None else ("" if fmt == "html" else b"")

    def build(self) -> str:
        """(Re)build the report HTML and show it."""
        self.html = str(self.render("html"))
        return self.html
