"""The fidelity service: score outputs and versions against their references and keep the reports.

``Fidelity(project, library)`` (``wb.fidelity``; calling it scores one target)::

    wb.fidelity("out_01J…")                      # an output, against the references in its lineage
    wb.fidelity("ver_01J…", refs=["SKU-1001"])   # a version, against a SKU's references
    wb.fidelity("shot.png", refs=["ref.png"])    # files, nothing recorded
    wb.fidelity.score_many(output_ids)           # a sweep, on the batch executor (processes or Dask)
    wb.fidelity.latest(["out_…", "ver_…"])      # badges: {id: {passed, score, failed, report_id}}

A target is a run output id, a version id (or an asset name: its latest version) or an image file; a
reference is an image file, or a version id, asset name or SKU (their versions, as
:meth:`Library.resolve_versions` reads them). Without references, a target's lineage names them (the run's
``reference_versions``). Thresholds are ``[fidelity]`` resolved for the run's recipe and the given channel.

Reports of ledger targets are recorded in one transaction each batch: ``fidelity_reports`` plus one
``fidelity_rules`` row per rule, the heatmap as a blob with its ``blobs`` row, and a ``fidelity.score``
event; ``fidelity_latest`` (a view) holds the newest per target, joined with the run's engine, model and
recipe, so ``wb.sql`` can rank recipes and engines by fidelity. Scoring itself is
:func:`workbench.fidelity.scoring.score`, a pure function the executor's workers run
(:mod:`workbench.fidelity.tasks`); this module is imported without loading any image library.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSpec, NotFound
from ..ledger import queries as q
from ..ledger.values import json_value

if TYPE_CHECKING:
    import duckdb

    from ..library.service import Library
    from ..project import Project
    from .thresholds import FidelitySettings

__all__ = ["Fidelity", "Target"]

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".gif", ".bmp", ".heic", ".heif", ".avif"}


@dataclass
class Target:
    """What is scored: a blob (``sha256``) or file bytes (``data``), with where it came from and its refs."""

    label: str
    sha256: str | None = None
    data: bytes | None = None
    version_id: str | None = None
    output_id: str | None = None
    run_id: str | None = None
    recipe: str | None = None
    references: list[dict[str, Any]] = field(default_factory=list)  # {"sha256", "version_id"} or {"data", "label"}

    @property
    def recorded(self) -> bool:
        """Whether the report goes to the ledger (a version or an output; not a loose file)."""
        return self.version_id is not None or self.output_id is not None


class Fidelity:
    """Product fidelity of one project's outputs and versions (``wb.fidelity``)."""

    def __init__(self, project: Project, library: Library) -> None:
        self.project = project
        self.library = library
        # [fidelity] score: a finished sweep or a commit is scored once it has committed (workbench.fidelity.auto)
        from .auto import after_commit, after_sweep

        project.events.subscribe("generation.sweep", lambda payload: after_sweep(self, payload))
        project.events.subscribe("review.commit", lambda payload: after_commit(self, payload))

    def __repr__(self) -> str:
        return f"<Fidelity {self.project.root}>"

    # -- settings -------------------------------------------------------------------------------------------
    def settings(self, recipe: str | None = None, channel: str | None = None) -> FidelitySettings:
        """``[fidelity]`` resolved for ``recipe`` and ``channel``."""
        from .thresholds import FidelitySettings

        return FidelitySettings.from_settings(self.project.settings, recipe=recipe, channel=channel)

    # -- resolving what to score ---------------------------------------------------------------------------
    def target(self, ref: str | Path, refs: Sequence[str | Path] | None = None) -> Target:
        """Resolve ``ref`` (output id, version id, asset name or image file) and its references."""
        text = str(ref)
        path = Path(text)
        with self.project.ledger.connect() as con:
            target = self._ledger_target(con, text) if not _looks_like_file(path) else None
            if target is None:
                if not path.is_file():
                    raise InvalidSpec(f"{text!r} is not an output id, a version id, an asset name or an image file")
                target = Target(label=text, data=_read(path))
            if refs:
                target.references = [r for one in refs for r in self._references(con, one)]
            elif target.run_id:
                target.references = self._lineage_references(con, target.run_id)
        if not target.references:
            raise InvalidSpec(f"no reference to compare {text!r} with: give --ref REF (a reference asset, "
                              "version, SKU or image file)")
        return target

    def _ledger_target(self, con: duckdb.DuckDBPyConnection, text: str) -> Target | None:
        found = q.resolve_id(con, "output", text)
        if found is not None:
            row = q.row(con, "SELECT o.id, o.sha256, o.run_id, r.recipe_name FROM run_outputs o "
                             "LEFT JOIN runs r ON r.id = o.run_id WHERE o.id = ?", [found])
            assert row is not None
            return Target(label=found, sha256=row["sha256"], output_id=found, run_id=row["run_id"],
                          recipe=row["recipe_name"])
        version_id = q.resolve_id(con, "version", text)
        if version_id is None:
            asset = q.resolve_asset(con, text, missing_ok=True)
            if asset is None:
                return None
            latest = q.row(con, "SELECT id FROM versions WHERE asset_id = ? ORDER BY number DESC LIMIT 1",
                           [asset["id"]])
            if latest is None:
                return None
            version_id = latest["id"]
        row = q.row(con, "SELECT v.id, v.sha256, v.run_id, v.output_id, r.recipe_name FROM versions v "
                         "LEFT JOIN runs r ON r.id = v.run_id WHERE v.id = ?", [version_id])
        assert row is not None
        return Target(label=version_id, sha256=row["sha256"], version_id=version_id, output_id=row["output_id"],
                      run_id=row["run_id"], recipe=row["recipe_name"])

    def _lineage_references(self, con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
        row = q.row(con, "SELECT reference_versions, reference_blobs FROM runs WHERE id = ?", [run_id])
        if row is None:
            return []
        versions = json_value(row["reference_versions"]) or []
        blobs = json_value(row["reference_blobs"]) or []
        return [{"sha256": sha, "version_id": versions[i] if i < len(versions) else None}
                for i, sha in enumerate(blobs)]

    def _references(self, con: duckdb.DuckDBPyConnection, ref: str | Path) -> list[dict[str, Any]]:
        text = str(ref)
        path = Path(text)
        if _looks_like_file(path) or (path.is_file() and not text.startswith(("ver_", "ast_"))):
            if not path.is_file():
                raise InvalidSpec(f"reference {text!r}: no such image file")
            return [{"data": _read(path), "label": text}]
        try:
            versions = self.library.resolve_versions(text)
        except NotFound as exc:
            raise InvalidSpec(f"reference {text!r} is not a version, asset, SKU or image file") from exc
        return [{"sha256": v["sha256"], "version_id": v["id"]} for v in versions]

    # -- scoring -------------------------------------------------------------------------------------------
    def __call__(self, target: str | Path, refs: Sequence[str | Path] | None = None, *,
                 channel: str | None = None, record: bool = True, heatmap_out: str | Path | None = None
                 ) -> dict[str, Any]:
        """Score one target (see the module docstring); return the report as JSON-able dict.

        ``record=False`` scores without writing to the ledger; ``heatmap_out`` also writes the heatmap PNG
        there. The dict has ``passed``, ``score``, ``rules`` and ``heatmap`` (the heatmap's blob id, or the
        file written), plus ``id`` (the report's, when recorded), ``target`` and ``reference``.
        """
        from ..imaging.decode import DecodeLimits
        from .scoring import score

        t = self.target(target, refs)
        s = self.settings(t.recipe, channel)
        data = t.data if t.data is not None else self.project.store.get(str(t.sha256))
        ref_bytes = [r["data"] if "data" in r else self.project.store.get(r["sha256"]) for r in t.references]
        report = score(data, ref_bytes, s, limits=DecodeLimits.from_settings(self.project.settings))
        heat = None
        if report.heatmap is not None:
            import struct

            width, height = struct.unpack(">II", report.heatmap[16:24])
            if t.recorded:
                sha, _ = self.project.store.put(report.heatmap)
                heat = {"sha256": sha, "size": len(report.heatmap), "width": width, "height": height}
            if heatmap_out is not None:
                Path(heatmap_out).write_bytes(report.heatmap)
        result = {"report": report.to_dict(), "heatmap": heat}
        return self._finish(t, s, [result], record=record and t.recorded, heatmap_out=heatmap_out)[0]

    def score_many(self, targets: Sequence[str], refs: Sequence[str | Path] | None = None, *,
                   channel: str | None = None, workers: int | None = None, executor: Any = None,
                   progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
        """Score many outputs/versions on the batch executor (``[executor]``, or ``workers`` local processes,
        or a given :class:`~workbench.executor.Executor`) and record every report in one transaction.

        Loose files are not accepted here (they have no blob for a worker to read); a failed target raises
        its error after the others were recorded.
        """
        resolved = [self.target(t, refs) for t in targets]
        out, failures = self._score_resolved(resolved, channel=channel, workers=workers, executor=executor,
                                             progress=progress)
        if failures:
            raise failures[0][1]
        return out

    def _score_resolved(self, resolved: Sequence[Target], *, channel: str | None = None, workers: int | None = None,
                        executor: Any = None, progress: Callable[[int, int], None] | None = None
                        ) -> tuple[list[dict[str, Any]], list[tuple[Target, BaseException]]]:
        """Score resolved targets on the executor and record the reports; the targets that failed come back
        with their errors instead of raising (the caller decides)."""
        from ..executor import Task, open_executor
        from ..imaging.decode import DecodeLimits
        from .tasks import TASK

        limits = DecodeLimits.from_settings(self.project.settings)
        tasks, plans = [], []
        for t in resolved:
            if t.sha256 is None or any("data" in r for r in t.references):
                raise InvalidSpec(f"{t.label}: score_many takes outputs and versions with ledger references; "
                                  "score files one at a time")
            s = self.settings(t.recipe, channel)
            plans.append((t, s))
            tasks.append(Task(TASK, {"target": t.sha256, "references": [r["sha256"] for r in t.references],
                                     "settings": s.to_dict(), "max_pixels": limits.max_pixels,
                                     "timeout_s": limits.timeout_s}))
        if not tasks:
            return [], []
        ex = executor if executor is not None else open_executor(self.project.settings, workers=workers)
        try:
            outcomes = ex.run(tasks, self.project.store.url, progress=progress)
        finally:
            if executor is None:
                ex.close()
        done, failures = [], []
        for (t, s), outcome in zip(plans, outcomes, strict=True):
            if outcome.failure is not None:
                failures.append((t, outcome.failure.to_exception()))
                continue
            done.append((t, s, outcome.value))
        out: list[dict[str, Any]] = []
        if done:
            with self.project.ledger.connect(write=True) as con:
                for t, s, value in done:
                    out.extend(self._finish(t, s, [value], record=True, con=con))
        return out, failures

    def auto_score(self, targets: Sequence[str], *, trigger: str, refs: Sequence[str | Path] | None = None
                   ) -> dict[str, Any]:
        """Score ``targets`` because ``[fidelity] score`` asked (``trigger``: ``sweep`` or ``commit``), on the
        ``[executor]``; never raises. Each target that could not be scored (no reference, an unreadable
        blob, a worker that failed or timed out, the executor unreachable) is recorded as a
        ``fidelity.auto_failed`` event, which :meth:`failures` reads. Returns ``{"scored": [report rows],
        "failed": [{"target", "error", "message"}]}``."""
        from .auto import record_failures

        resolved: list[Target] = []
        failed: list[tuple[str, BaseException]] = []
        for one in targets:
            try:
                resolved.append(self.target(one, refs))
            except Exception as exc:  # whatever it is, it must not reach the sweep or commit
                failed.append((one, exc))
        scored: list[dict[str, Any]] = []
        try:
            scored, errors = self._score_resolved(resolved)
            failed.extend((t.label, exc) for t, exc in errors)
        except Exception as exc:  # e.g. the executor cannot start: every target failed
            failed.extend((t.label, exc) for t in resolved)
        return {"scored": scored, "failed": record_failures(self.project, failed, trigger)}

    def failures(self, ids: Sequence[str] | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
        """Auto-scoring failures (see :meth:`auto_score`), newest first: ``{target, target_kind, trigger,
        error, message, created_at}``; only those of ``ids`` when given."""
        from .auto import read_failures

        with self.project.ledger.connect() as con:
            return read_failures(con, ids, limit)

    def _finish(self, t: Target, s: FidelitySettings, results: list[dict[str, Any]], *, record: bool,
                heatmap_out: str | Path | None = None, con: duckdb.DuckDBPyConnection | None = None
                ) -> list[dict[str, Any]]:
        out = []
        for value in results:
            report, heat = value["report"], value.get("heatmap")
            best = t.references[int(report["reference"])]
            candidates = [{"sha256": r.get("sha256"), "version_id": r.get("version_id"), "label": r.get("label"),
                           "score": c} for r, c in zip(t.references, report["candidates"], strict=True)]
            row = {**report, "target": t.label, "version_id": t.version_id, "output_id": t.output_id,
                   "run_id": t.run_id, "reference": {"index": report["reference"], "sha256": best.get("sha256"),
                                                     "version_id": best.get("version_id"), "label": best.get("label")},
                   "candidates": candidates,
                   "heatmap": heat["sha256"] if heat else (str(heatmap_out) if heatmap_out else None), "id": None}
            if record:
                if con is None:
                    with self.project.ledger.connect(write=True) as own:
                        row["id"] = self._record(own, t, s, report, heat, best, candidates)
                else:
                    row["id"] = self._record(con, t, s, report, heat, best, candidates)
            out.append(row)
        return out

    def _record(self, con: duckdb.DuckDBPyConnection, t: Target, s: FidelitySettings, report: dict[str, Any],
                heat: dict[str, Any] | None, best: dict[str, Any], candidates: list[dict[str, Any]]) -> str:
        from ..ids import new_id
        from ..library.ingest import record_blob

        report_id = new_id("fidelity")
        target_sha = t.sha256 or ""
        if heat:
            record_blob(con, heat["sha256"], heat["size"], "image/png", "image",
                        {"format": "PNG", "width": heat["width"], "height": heat["height"], "mode": "RGB",
                         "bit_depth": 8, "has_alpha": False})
        ref_sha = best.get("sha256") or ""
        locked = None
        if t.output_id:  # a product-locked output: whose pixels its product is
            lock = q.row(con, "SELECT details FROM events WHERE action = 'generation.product_lock' AND target_id = ? "
                              "ORDER BY created_at DESC LIMIT 1", [t.output_id])
            info = json_value(lock["details"]) if lock else None
            locked = info.get("reference_sha256") if isinstance(info, dict) and info.get("locked") else None
        con.execute(
            "INSERT INTO fidelity_reports (id, target_sha256, version_id, output_id, run_id, reference_sha256, "
            "reference_version_id, candidates, passed, score, failed, heatmap_sha256, alignment, settings, "
            "product_lock, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [report_id, target_sha, t.version_id, t.output_id, t.run_id, ref_sha, best.get("version_id"),
             json.dumps([{k: v for k, v in c.items() if k != "label"} for c in candidates]), report["passed"],
             float(report["score"]), json.dumps(report["failed"]), heat["sha256"] if heat else None,
             json.dumps(report["alignment"]), json.dumps(s.to_dict()), locked, self.project.user])
        known = {"rule", "passed", "skipped", "value", "threshold", "score", "detail"}
        con.executemany(
            "INSERT INTO fidelity_rules (report_id, rule, passed, skipped, value, threshold, score, detail, extra) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[report_id, r["rule"], r["passed"], r["skipped"], r["value"], r["threshold"], r["score"], r["detail"],
              json.dumps({k: v for k, v in r.items() if k not in known})] for r in report["rules"]])
        self.project.events.record(con, "fidelity.score", "version" if t.version_id else "output",
                                   t.version_id or t.output_id or "",
                                   {"report_id": report_id, "passed": report["passed"], "score": report["score"],
                                    "failed": report["failed"]})
        return report_id

    # -- the gate ------------------------------------------------------------------------------------------
    def override(self, version: str, reason: str, action: str = "approve") -> dict[str, Any]:
        """Let a version whose newest fidelity report failed through the gate, recording who and why.

        ``action`` is what it is let through for (``approve`` or ``export``); either lets it export. A version
        with no failing report is an :class:`InvalidSpec` (nothing to override), as is an empty reason."""
        from ..ids import new_id
        from .gate import failing_reports

        if not reason or not reason.strip():
            raise InvalidSpec("a fidelity override needs a reason")
        if action not in ("approve", "export"):
            raise InvalidSpec(f"override action {action!r}: expected approve or export")
        with self.project.ledger.connect(write=True) as con:
            version_id = q.require_id(con, "version", version)
            found = failing_reports(con, [version_id], include_overridden=True).get(version_id)
            if found is None:
                raise InvalidSpec(f"{version_id} has no failing fidelity report to override")
            row = {"id": new_id("override"), "version_id": version_id, "report_id": found["report_id"],
                   "action": action, "reason": reason.strip(), "actor": self.project.user}
            con.execute("INSERT INTO fidelity_overrides (id, version_id, report_id, action, reason, actor) "
                        "VALUES (?, ?, ?, ?, ?, ?)", list(row.values()))
            self.project.events.record(con, "fidelity.override", "version", version_id,
                                       {"report_id": found["report_id"], "action": action, "reason": row["reason"],
                                        "failed": found["failed"]})
        return {**row, "failed": found["failed"]}

    def gate(self, version: str) -> dict[str, Any]:
        """What the gate says about a version: ``{gate, blocked, report_id, failed, reasons, overridden}``."""
        from .gate import failing_reports

        gate = str(self.project.settings.get("fidelity.gate", "approve"))
        with self.project.ledger.connect() as con:
            version_id = q.require_id(con, "version", version)
            found = failing_reports(con, [version_id], include_overridden=True).get(version_id)
        if found is None:
            return {"gate": gate, "version_id": version_id, "blocked": False, "report_id": None, "failed": [],
                    "reasons": [], "overridden": False}
        return {"gate": gate, "version_id": version_id, "blocked": gate != "off" and not found["overridden"],
                **found}

    # -- reading reports -----------------------------------------------------------------------------------
    def latest(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest report of each output or version id (what a badge shows): ``{id: {report_id, passed,
        score, failed, heatmap, created_at}}``; ids never scored are absent. A version's reports are its own
        and those of the run output it was committed from, as the gate reads them. One query for the grid."""
        if not ids:
            return {}
        wanted = [str(i) for i in ids]
        with self.project.ledger.connect() as con:
            found = q.rows(con, """
                WITH v AS (SELECT id, output_id FROM versions WHERE list_contains(?, id)),
                keyed AS (
                    SELECT v.id AS key, r.* FROM v JOIN fidelity_reports r ON r.version_id = v.id
                        OR (r.version_id IS NULL AND v.output_id IS NOT NULL AND r.output_id = v.output_id)
                    UNION ALL
                    SELECT r.output_id AS key, r.* FROM fidelity_reports r
                    WHERE r.version_id IS NULL AND list_contains(?, r.output_id))
                SELECT key, id AS report_id, version_id, output_id, passed, score, failed,
                       heatmap_sha256 AS heatmap, created_at FROM keyed
                QUALIFY row_number() OVER (PARTITION BY key ORDER BY created_at DESC, id DESC) = 1""",
                          [wanted, wanted])
        out: dict[str, dict[str, Any]] = {}
        for r in found:
            key = str(r.pop("key"))
            r["failed"] = json_value(r["failed"]) or []
            out[key] = r
        return out

    def report(self, report_id: str) -> dict[str, Any]:
        """One stored report with its rules (in rule order)."""
        with self.project.ledger.connect() as con:
            row = q.row(con, "SELECT * FROM fidelity_reports WHERE id = ?", [report_id])
            if row is None:
                raise NotFound(f"unknown fidelity report {report_id!r}")
            rules = q.rows(con, "SELECT rule, passed, skipped, value, threshold, score, detail, extra "
                                "FROM fidelity_rules WHERE report_id = ?", [report_id])
        for key in ("candidates", "failed", "alignment", "settings"):
            row[key] = json_value(row[key])
        from .thresholds import RULES

        for r in rules:
            r.update(json_value(r.pop("extra")) or {})
        row["rules"] = sorted(rules, key=lambda r: RULES.index(r["rule"]) if r["rule"] in RULES else 99)
        row["heatmap"] = row.pop("heatmap_sha256")
        return row

    def reports(self, target: str) -> list[dict[str, Any]]:
        """Every stored report of an output or version id, newest first (without rules). A version's are its
        own and those of the run output it was committed from (what the gate reads; ``version_id`` is
        ``None`` on the latter)."""
        with self.project.ledger.connect() as con:
            version = q.row(con, "SELECT output_id FROM versions WHERE id = ?", [target])
            # an output's: the reports naming it, its versions' included; a version's: its own and its source's
            where = ("version_id = ? OR (version_id IS NULL AND output_id = ?)" if version is not None
                     else "version_id = ? OR output_id = ?")
            rows = q.rows(con, "SELECT id, version_id, output_id, reference_sha256, reference_version_id, passed, "
                               "score, failed, heatmap_sha256 AS heatmap, created_at FROM fidelity_reports "
                               f"WHERE {where} ORDER BY created_at DESC, id DESC",
                          [target, version["output_id"] if version is not None else target])
        for r in rows:
            r["failed"] = json_value(r["failed"]) or []
        return rows

    def heatmap(self, report_id: str) -> bytes | None:
        """The heatmap PNG of a stored report, or ``None`` when it has none (no product found)."""
        sha = self.report(report_id)["heatmap"]
        return self.project.store.get(sha) if sha else None


def _looks_like_file(path: Path) -> bool:
    return path.suffix.lower() in _IMAGE_SUFFIXES or path.is_file()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidSpec(f"cannot read {path}: {exc.strerror or exc}") from exc
