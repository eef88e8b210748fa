"""Running an export: plan, reconcile interrupted deliveries, deliver, record, publish.

One call of :func:`run_export` is one batch:

1. select candidates and apply the rules (refused items are reported; ``force`` needs a reason);
2. build the channel's items, each knowing what the export ledger says its slot holds now;
3. reconcile pending rows left by a killed run: ask the channel (:meth:`Channel.locate`) whether the
   item arrived; record it if so, close the attempt as failed if not (then it is sent again);
4. plan (send / replace / skip) from the ledger — with ``verify`` the channel is asked whether skipped
   items are really there; ``dry_run`` stops here and writes nothing;
5. deliver with a small thread pool: per chunk a pending row is committed before sending and the
   result right after, so a crash loses at most the knowledge of in-flight items, which step 3 recovers;
6. let the channel finish (the folder channel writes its manifest and CSVs), mark fully delivered
   approved versions ``published`` on storefront channels, and record the batch as an event;
7. fire the project tools listed in the channel's ``notify`` setting (e.g. ``[channels.shopify]
   notify = ["airtable", "sheets"]``) for the versions just delivered; their failures are reported in
   ``report.extra["notify"]`` and never undo the delivery.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ExportError, InvalidSpec, WorkbenchError, redact
from ..ids import new_id
from ..ledger import queries as q
from ..plugins import load
from ..plugins.channel import Channel, ChannelConfig, Delivery, ExportItem, PlanEntry
from ..secrets import known_secrets
from . import records
from .journal import Journal
from .plan import Selection, build_items, rule_refusals, select_candidates

if TYPE_CHECKING:
    import httpx

    from ..project import Project
    from ..review.service import Review

__all__ = ["ExportReport", "make_channel", "run_export"]


@dataclass
class ExportReport:
    """The outcome of one export batch."""

    batch_id: str | None
    channel: str
    destination: str
    dry_run: bool
    items: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Items per action (send/replace/skip in a dry run; sent/replaced/skipped/failed otherwise)."""
        out: dict[str, int] = {}
        for it in self.items:
            out[it["action"]] = out.get(it["action"], 0) + 1
        if self.refused:
            out["refused"] = len(self.refused)
        return out

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Items that failed at the channel."""
        return [it for it in self.items if it["action"] == "failed"]

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was refused."""
        return not self.failed and not self.refused

    @property
    def status(self) -> str:
        """ok | partial | failed."""
        if self.ok:
            return "ok"
        done = [it for it in self.items if it["action"] != "failed"]
        return "partial" if done else "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for ``--json``)."""
        return {"batch_id": self.batch_id, "channel": self.channel, "destination": self.destination,
                "dry_run": self.dry_run, "status": self.status, "counts": self.counts, "items": self.items,
                "refused": self.refused, "published": self.published, "extra": self.extra}


def make_channel(project: Project, name: str, client: httpx.Client | None = None) -> Channel:
    """Instantiate channel ``name`` with its ``[channels.<name>]`` settings."""
    cls = load("channel", name)
    options = project.settings.get(f"channels.{name}", {}) or {}
    channel = cls(ChannelConfig(name, dict(options), str(project.root)), client)
    channel.actor = project.user
    channel.project_name = str(project.settings.get("project.name") or "")
    return channel


def _entry_dict(entry: PlanEntry, action: str, delivery: Delivery | None = None,
                error: BaseException | None = None) -> dict[str, Any]:
    it = entry.item
    out: dict[str, Any] = {"slot": it.slot, "version_id": it.version_id, "asset": it.asset_name, "sku": it.sku,
                           "preset": it.preset, "rendition_id": it.rendition_id, "sha256": it.sha256,
                           "action": action, "reason": entry.reason}
    if delivery is not None:
        out.update(remote_id=delivery.remote_id, remote_url=delivery.remote_url,
                   replaced_remote_id=delivery.replaced_remote_id)
    elif it.previous is not None and action in ("skipped", "skip"):
        out.update(remote_id=it.previous.remote_id, remote_url=it.previous.remote_url)
    if error is not None:
        out.update(error=redact(str(error), known_secrets()), error_type=type(error).__name__)
    return out


def _reconcile(project: Project, channel: Channel, ctx: dict[str, Any],
               items: Sequence[ExportItem]) -> tuple[int, dict[str, WorkbenchError]]:
    """Resolve interrupted attempts for our items.

    Returns how many were found delivered, and the slots whose state could not be learned (the channel
    could not be asked): those stay pending and are not re-sent in this run, so nothing is duplicated.
    """
    with project.ledger.connect() as con:
        pending = records.open_pending(con, ctx["channel"], ctx["destination"])
    by_slot = {(it.slot, it.sha256): it for it in items}
    found, unknown = 0, {}
    for row in pending:
        item = by_slot.get((row["slot"], row["sha256"]))
        if item is None:
            continue  # not part of this selection; a later run that selects it will reconcile it
        try:
            located = channel.locate(item)
            action = "sent"
            prior = item.previous
            if located is not None and prior and prior.sha256 != item.sha256:
                action = "replaced"
                if prior.remote_id and prior.remote_id != located.remote_id:
                    channel.remove(item, prior.remote_id)
                    located.replaced_remote_id = prior.remote_id
        except WorkbenchError as exc:
            unknown[item.slot] = exc
            continue
        with project.ledger.connect(write=True) as con:
            if located is not None:
                records.write_result(con, ctx, item, row["attempt_id"], action, located, reconciled=True)
                found += 1
            else:
                reason = ExportError("interrupted before a result was recorded; not found on the channel")
                records.write_result(con, ctx, item, row["attempt_id"], "failed", error=reason)
    return found, unknown


def _refresh_priors(project: Project, channel: Channel, items: Sequence[ExportItem]) -> None:
    from ..plugins.channel import Prior

    with project.ledger.connect() as con:
        for it in items:
            row = con.execute("SELECT sha256, remote_id, remote_url, version_id FROM export_current "
                              "WHERE channel = ? AND destination = ? AND slot = ?",
                              [channel.name, channel.destination(), it.slot]).fetchone()
            it.previous = Prior(*row) if row else None


def run_export(
    project: Project,
    review: Review,
    channel_name: str,
    selection: Selection | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    reason: str | None = None,
    client: httpx.Client | None = None,
    workers: int | None = None,
    verify: bool = False,
) -> ExportReport:
    """Export the selection to ``channel_name``; see the module docstring for the steps.

    ``verify=True`` asks the channel (:meth:`Channel.locate`) about every item the ledger says is already
    there, and sends again what has gone missing (media deleted by hand, a bucket emptied).
    """
    selection = selection or Selection()
    if force and not (reason and reason.strip()):
        raise InvalidSpec("--force needs --reason: say why the rules are overridden (it is recorded)")
    channel = make_channel(project, channel_name, client)
    try:
        report = _run(project, review, channel, selection, dry_run=dry_run, force=force, reason=reason, workers=workers,
                      verify=verify)
        notify = list(channel.config.get("notify") or [])
    finally:
        channel.close()
    if notify and not dry_run and report.batch_id:
        report.extra["notify"] = _notify(project, review, notify, report, selection, force=force, reason=reason)
    return report


def _notify(project: Project, review: Review, tools: Sequence[str], report: ExportReport, selection: Selection, *, force: bool,
            reason: str | None) -> dict[str, Any]:
    """Fire the project-tool channels listed in ``[channels.<name>] notify`` for what was delivered."""
    delivered = sorted({it["version_id"] for it in report.items if it["action"] in ("sent", "replaced")})
    out: dict[str, Any] = {}
    if not delivered:
        return out
    for tool in tools:
        try:
            sub = run_export(project, review, tool, Selection(versions=delivered, presets=list(selection.presets)),
                             force=force, reason=reason)
            out[tool] = {"status": sub.status, "counts": sub.counts, "batch_id": sub.batch_id}
        except WorkbenchError as exc:  # a tracker failing must not undo a storefront delivery
            out[tool] = {"status": "failed", "error": redact(str(exc), known_secrets()),
                         "error_type": type(exc).__name__}
    return out


def _run(project: Project, review: Review, channel: Channel, selection: Selection, *, dry_run: bool, force: bool,
         reason: str | None, workers: int | None, verify: bool = False) -> ExportReport:
    destination = channel.destination()
    channel_presets = channel.config.get("presets") or ()
    refused, allowed, forced_versions = [], [], set()
    with project.ledger.connect() as con:
        for cand in select_candidates(project, review.library, con, selection, channel_presets):
            why = rule_refusals(project.settings, cand)
            if why and (not force or cand.rendition is None):
                refused.append({"version_id": cand.version_id, "preset": cand.preset, "reasons": why})
            else:
                allowed.append(cand)
                if why:
                    forced_versions.add((cand.version_id, cand.preset))
        items = build_items(project, con, channel, allowed)
    items, superseded = _one_per_slot(items)
    items, collided = _unique_paths(project, channel, items)
    refused += collided
    forced_slots = {it.slot for it in items if (it.version_id, it.preset) in forced_versions}
    report = ExportReport(None, channel.name, destination, dry_run, refused=refused)
    if superseded:
        report.extra["superseded"] = superseded

    if dry_run:
        entries = channel.plan(items)
        if verify:
            channel.check_credentials()
            entries = _verify(channel, entries)
        report.items = [_entry_dict(e, e.action) for e in entries]
        return report
    if not items:
        if refused:
            with project.ledger.connect(write=True) as con:
                project.events.record(con, "export.refused", "channel", channel.name,
                                {"destination": destination, "refused": refused})
            raise ExportError(_refusal_message(refused))
        return report
    channel.check_credentials()

    batch_id = new_id("export")
    report.batch_id = batch_id
    ctx = {"batch_id": batch_id, "channel": channel.name, "destination": destination, "actor": project.user,
           "forced_reason": reason if force else None, "forced_slots": forced_slots}
    with project.ledger.connect(write=True) as con:
        con.execute("INSERT INTO export_batches (id, channel, destination, spec, dry_run, forced_reason, actor) "
                    "VALUES (?, ?, ?, ?, false, ?, ?)",
                    [batch_id, channel.name, destination, _json(selection.to_dict()),
                     reason if force else None, project.user])
        project.events.record(con, "export.start", "export_batch", batch_id,
                        {"channel": channel.name, "destination": destination, "items": len(items),
                         "forced_reason": reason if force else None,
                         "forced": sorted(f"{v}/{p}" for v, p in forced_versions), "refused": refused})

    reconciled, unknown = _reconcile(project, channel, ctx, items)
    if reconciled:
        report.extra["reconciled"] = reconciled
        _refresh_priors(project, channel, items)
    entries = channel.plan(items)
    if verify:
        entries = _verify(channel, entries)
    channel.begin(entries)

    skips = [e for e in entries if e.action == "skip"]
    held = [e for e in entries if e.action != "skip" and e.item.slot in unknown]
    sends = [e for e in entries if e.action != "skip" and e.item.slot not in unknown]
    with project.ledger.connect(write=True) as con:
        records.write_skipped(con, ctx, [e.item for e in skips])
    results: dict[str, dict[str, Any]] = {e.item.slot: _entry_dict(e, "skipped") for e in skips}
    for e in held:
        results[e.item.slot] = _entry_dict(e, "failed", error=ExportError(
            f"an earlier interrupted delivery could not be checked ({unknown[e.item.slot]}); not re-sent"))
    results.update(_deliver_all(project, channel, ctx, sends, workers))
    report.items = [results[e.item.slot] for e in entries if e.item.slot in results]
    report.extra.update(channel.finish(entries, results))

    if channel.publishes:
        report.published = _publish(project, review, channel, report.items)
    with project.ledger.connect(write=True) as con:
        con.execute("INSERT INTO export_batch_results (batch_id, status, counts) VALUES (?, ?, ?)",
                    [batch_id, report.status, _json(report.counts)])
        project.events.record(con, "export.finish", "export_batch", batch_id,
                        {"channel": channel.name, "destination": destination, "status": report.status,
                         "counts": report.counts, "versions": sorted({it["version_id"] for it in report.items}),
                         "published": report.published, "forced_reason": reason if force else None})
    return report


def _deliver_all(project: Project, channel: Channel, ctx: dict[str, Any], sends: Sequence[PlanEntry],
                 workers: int | None) -> dict[str, dict[str, Any]]:
    if not sends:
        return {}
    n_workers = max(1, min(workers or channel.max_workers, channel.max_workers, len(sends)))
    chunk = max(1, int(getattr(channel, "ledger_chunk", 1)))
    work: queue.Queue[list[PlanEntry]] = queue.Queue()
    for i in range(0, len(sends), chunk):
        work.put(list(sends[i:i + chunk]))
    results: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    journal = Journal(project.ledger, ctx)

    def worker() -> None:
        while True:
            try:
                group = work.get_nowait()
            except queue.Empty:
                return
            try:
                attempts = journal.pending([e.item for e in group])
            except WorkbenchError as exc:  # nothing is sent without its pending row
                with lock:
                    for entry in group:
                        results[entry.item.slot] = _entry_dict(entry, "failed", error=exc)
                continue
            for entry, attempt in zip(group, attempts, strict=True):
                action = "replaced" if entry.action == "replace" else "sent"
                delivery, error = None, None
                try:
                    delivery = channel.deliver(entry.item)
                except WorkbenchError as exc:
                    action, error = "failed", exc
                journal.result(entry.item, attempt, action, delivery, error)
                with lock:
                    results[entry.item.slot] = _entry_dict(entry, action, delivery, error)

    threads = [threading.Thread(target=worker, name=f"export-{i}", daemon=True) for i in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    return results


def _publish(project: Project, review: Review, channel: Channel, items: Sequence[dict[str, Any]]) -> list[str]:
    """Move approved versions whose every item is on the storefront to ``published``."""
    by_version: dict[str, bool] = {}
    for it in items:
        by_version[it["version_id"]] = by_version.get(it["version_id"], True) and it["action"] != "failed"
    done = [v for v, ok in by_version.items() if ok]
    published = []
    with project.ledger.connect() as con:
        approved = {r[0] for r in con.execute(
            "SELECT version_id FROM version_state WHERE state = 'approved' AND list_contains(?, version_id)",
            [done]).fetchall()} if done else set()
    note = f"exported to {channel.name}"
    # one transaction for all (nested units of work on this thread reuse it); the review area's state
    # machine checks each move and records its event, and its subscribers run after this commits
    with project.ledger.connect(write=True):
        for vid in done:
            if vid not in approved:
                continue
            try:
                review.publish(vid, note=note)
            except WorkbenchError:
                continue
            published.append(vid)
    return published


def _verify(channel: Channel, entries: Sequence[PlanEntry]) -> list[PlanEntry]:
    """Turn ``skip`` into ``send`` for items the channel no longer holds."""
    out = []
    for entry in entries:
        if entry.action == "skip":
            try:
                if channel.locate(entry.item) is None:
                    entry = PlanEntry(entry.item, "send", "recorded as delivered but missing on the destination")
            except WorkbenchError as exc:  # cannot ask: trust the ledger rather than risk a duplicate
                entry = PlanEntry(entry.item, "skip", f"could not verify: {redact(str(exc), known_secrets())}")
        out.append(entry)
    return out


def _one_per_slot(items: Sequence[ExportItem]) -> tuple[list[ExportItem], list[dict[str, Any]]]:
    """Two versions of one asset for one slot: the newer version wins; the other is reported."""
    best: dict[str, ExportItem] = {}
    for it in items:
        cur = best.get(it.slot)
        if cur is None or it.version_id > cur.version_id:  # ids are time-sortable
            best[it.slot] = it
    keep = [it for it in items if best[it.slot] is it]
    dropped = [{"version_id": it.version_id, "preset": it.preset,
                "reasons": [f"superseded by {best[it.slot].version_id} for the same destination slot"]}
               for it in items if best[it.slot] is not it]
    return keep, dropped


def _unique_paths(project: Project, channel: Channel,
                  items: Sequence[ExportItem]) -> tuple[list[ExportItem], list[dict[str, Any]]]:
    """Refuse items whose destination path another asset already holds or claims in this batch.

    Names that differ only in characters the path cannot carry (``colour one/hero`` and ``colour-one/hero``)
    slug to the same path; sending both would let one silently overwrite the other and re-runs would never
    settle. The asset that holds the path keeps it; in a batch the older asset (ids are time-sorted) wins.
    """
    paths = {it.slot: channel.path_of(it) for it in items}
    if not any(paths.values()):
        return list(items), []
    with project.ledger.connect() as con:
        held = {r["remote_id"]: r for r in q.rows(
            con, "SELECT e.remote_id, e.asset_id, a.name FROM export_current e LEFT JOIN assets a ON a.id = e.asset_id "
                 "WHERE e.channel = ? AND e.destination = ? AND e.remote_id IS NOT NULL",
            [channel.name, channel.destination()])}
    claims: dict[str, ExportItem] = {}
    keep, refused = [], []
    for it in sorted(items, key=lambda i: (i.asset_id, i.slot)):
        path = paths[it.slot]
        owner = held.get(path) if path else None
        rival = claims.get(path) if path else None
        holder = (owner["asset_id"], owner["name"]) if owner and owner["asset_id"] != it.asset_id else \
            ((rival.asset_id, rival.asset_name) if rival and rival.asset_id != it.asset_id else None)
        if holder is None:
            if path:
                claims[path] = it
            keep.append(it)
            continue
        refused.append({"version_id": it.version_id, "preset": it.preset, "reasons": [
            f"its destination {path} is already used by asset {holder[1]!r} ({holder[0]}): the two names map to the "
            f"same path; rename {it.asset_name!r} or the other asset"]})
    order = {it.slot: n for n, it in enumerate(items)}
    return sorted(keep, key=lambda it: order[it.slot]), refused


def _refusal_message(refused: Sequence[dict[str, Any]]) -> str:
    first = refused[:5]
    lines = "; ".join(f"{r['version_id']}/{r['preset']}: {', '.join(r['reasons'])}" for r in first)
    more = f" (+{len(refused) - 5} more)" if len(refused) > 5 else ""
    return (f"export refused for {len(refused)} item(s): {lines}{more}. "
            "Approve the versions and fix the checks, or use force with a reason.")


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
