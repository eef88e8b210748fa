"""CLI command: ``workbench fidelity TARGET [--ref REF ...] [--json]`` — is the product still the product?

TARGET is an output id, a version id (or an asset name) or an image file; each REF a reference asset,
version, SKU or image file (default: the references in TARGET's lineage). Prints every rule's value,
threshold and verdict, the overall verdict and score, and where the heatmap is (its blob id for a recorded
report; ``--heatmap FILE`` also writes the PNG). With ``--json``: ``passed``, ``score``, ``rules`` (a list
of ``{rule, passed, value, threshold, detail}``) and ``heatmap``. Exit 0 when it ran, whatever the verdict;
2 on bad input (an unreadable image, no reference). ``--override REASON`` records that the version TARGET's
failing report may pass the ``[fidelity] gate`` (approve, export). Files only (no project): scored with the default
``[fidelity]`` settings and nothing is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import JsonOpt, ProjectOpt, console, emit

__all__ = ["fidelity", "register"]


def _score_files(target: str, refs: list[str], heatmap: Path | None) -> dict[str, Any]:
    from ..errors import InvalidSpec
    from ..fidelity.scoring import score

    def read(p: str) -> bytes:
        try:
            return Path(p).read_bytes()
        except OSError as exc:
            raise InvalidSpec(f"cannot read {p}: {exc.strerror or exc}") from exc

    if not refs:
        raise InvalidSpec(f"no reference to compare {target!r} with: give --ref REF")
    report = score(read(target), [read(r) for r in refs])
    if heatmap is not None and report.heatmap is not None:
        heatmap.write_bytes(report.heatmap)
    out = report.to_dict(heatmap=str(heatmap) if heatmap is not None and report.heatmap else None)
    return {**out, "target": target, "reference": {"index": report.reference, "label": refs[report.reference]},
            "id": None}


def fidelity(
    target: Annotated[str, typer.Argument(help="An output id, a version id, an asset name or an image file.")],
    ref: Annotated[list[str] | None, typer.Option("--ref", "-r", help="A reference asset, version, SKU or image "
                                                  "file (repeatable; default: TARGET's lineage).")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Use this channel's [fidelity] overrides.")] = None,
    heatmap: Annotated[Path | None, typer.Option("--heatmap", help="Also write the heatmap PNG here.")] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Score without writing the report to the ledger.")] = False,
    override: Annotated[str | None, typer.Option("--override", help="Do not score: let the version TARGET's failing "
                                                 "report through the [fidelity] gate, with this reason.")] = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a product's fidelity against its references: presence, colour, shape, detail and label."""
    from ..project import resolve_project_dir

    refs = list(ref or [])
    if override is not None:
        from .common import open_wb

        done = open_wb(project).fidelity.override(target, override)
        emit(done, as_json, lambda r: console.print(f"override {r['id']}: {r['version_id']} may pass the fidelity "
                                                     f"gate ({', '.join(r['failed'])} failed): {r['reason']}"))
        return
    files_only = Path(target).is_file() and all(Path(r).is_file() for r in refs)
    project_dir = resolve_project_dir(project)
    if files_only and not (project_dir / "workbench.toml").exists():
        data = _score_files(target, refs, heatmap)
    else:
        from .common import open_wb

        wb = open_wb(project)
        data = wb.fidelity(target, refs or None, channel=channel, record=not no_record, heatmap_out=heatmap)

    def human(r: dict[str, Any]) -> None:
        verdict = "[green]PASS[/green]" if r["passed"] else "[red]FAIL[/red]"
        console.print(f"{verdict} {r['target']}  score {r['score']:.2f}" + (f"  report {r['id']}" if r["id"] else ""))
        for rule in r["rules"]:
            mark = "-" if rule.get("skipped") and rule["passed"] else ("ok" if rule["passed"] else "FAIL")
            value = "" if rule["value"] is None else f"{rule['value']:g}"
            limit = "" if rule["threshold"] is None else f" (limit {rule['threshold']:g})"
            console.print(f"  {mark:<4} {rule['rule']:<8} {value}{limit}  {rule['detail']}", highlight=False)
        if r.get("heatmap"):
            console.print(f"  heatmap: {r['heatmap']}", highlight=False)

    emit(data, as_json, human)


def register(app: typer.Typer) -> None:
    """Add this command to the main app."""
    app.command("fidelity")(fidelity)
