"""The fidelity gate: a version whose newest report failed is refused approval (gate = "approve") or export
(gate = "export") until someone overrides it with a recorded reason, like a failed channel check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import cli
from workbench.errors import ExportError, InvalidSpec, TransitionForbidden

from .products import bottle, compose, gradient, hue_shift_rgba, mug, png, studio


@pytest.fixture
def versions(wb, tmp_path: Path) -> dict[str, str]:
    """A reference, a faithful version and a recoloured one, both scored against the SKU."""
    ref = tmp_path / "bottle_SKU-1001.png"
    ref.write_bytes(png(compose(bottle(), studio(), shadow=False)))
    assert wb.ingest([ref]).ok
    out = {}
    for name, product in (("good", bottle()), ("bad", hue_shift_rgba(bottle(), 25))):
        path = tmp_path / f"{name}.png"
        path.write_bytes(png(compose(product, gradient(), scale=0.8)))
        out[name] = wb.commit(path=path, asset=f"SKU-1001/{name}", autotag=False)
        wb.fidelity(out[name], ["SKU-1001"])
        wb.review.submit(out[name])
    return out


def _render_and_export(wb, vid: str, **kw):
    wb.render(vid, ["pdp_portrait"])
    return wb.export("folder", versions=[vid], presets=["pdp_portrait"], **kw)


def test_approve_is_refused_until_overridden_with_a_reason(wb, versions):
    wb.review.approve(versions["good"])
    with pytest.raises(TransitionForbidden, match="fails product fidelity") as err:
        wb.review.approve(versions["bad"])
    assert "colour:" in str(err.value) and "override" in str(err.value)
    assert wb.review.state(versions["bad"])["state"] == "in_review"
    assert wb.fidelity.gate(versions["bad"])["blocked"] is True
    with pytest.raises(InvalidSpec, match="reason"):
        wb.fidelity.override(versions["bad"], "  ")
    with pytest.raises(InvalidSpec, match="no failing"):
        wb.fidelity.override(versions["good"], "fine anyway")
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 1  # the savings report counts it
    done = wb.fidelity.override(versions["bad"], "the client asked for this shade")
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 0
    assert done["failed"] == ["colour"] and done["actor"] == "tester"
    wb.review.approve(versions["bad"])
    assert wb.review.state(versions["bad"])["state"] == "approved"
    logged = wb.sql("SELECT action, details FROM events WHERE action = 'fidelity.override'")
    assert len(logged) == 1 and "the client asked" in str(logged[0]["details"])
    # approved and overridden: it exports too
    assert _render_and_export(wb, versions["bad"]).ok


def test_a_newer_failing_report_needs_a_new_override(wb, versions):
    wb.fidelity.override(versions["bad"], "accepted once")
    wb.fidelity(versions["bad"], ["SKU-1001"])
    with pytest.raises(TransitionForbidden):
        wb.review.approve(versions["bad"])


def test_export_gate_lets_approval_through_but_refuses_export(wb, versions):
    wb.settings.update_file({"fidelity": {"gate": "export"}})
    wb.review.approve(versions["bad"])  # approval is not gated
    with pytest.raises(ExportError, match="fails product fidelity") as err:
        _render_and_export(wb, versions["bad"])
    assert "colour:" in str(err.value) and "--override" in str(err.value)
    wb.fidelity.override(versions["bad"], "export anyway: swatch approved by brand", action="export")
    assert _render_and_export(wb, versions["bad"]).ok


def test_gate_off_and_unscored_versions_pass(wb, versions, tmp_path):
    wb.settings.update_file({"fidelity": {"gate": "off"}})
    wb.review.approve(versions["bad"])
    wb.settings.update_file({"fidelity": {"gate": "approve"}})
    path = tmp_path / "never.png"
    path.write_bytes(png(compose(bottle(), gradient(), scale=0.8)))
    vid = wb.commit(path=path, asset="SKU-1001/never", autotag=False)
    wb.review.submit(vid)
    wb.review.approve(vid)  # never scored: nothing to hold it back


def test_the_approve_gate_also_refuses_export_and_the_override_is_in_the_ledger(wb, versions):
    wb.settings.update_file({"fidelity": {"gate": "off"}})
    wb.review.approve(versions["bad"])  # approved while the gate was off
    wb.settings.update_file({"fidelity": {"gate": "approve"}})
    with pytest.raises(ExportError, match="fails product fidelity"):
        _render_and_export(wb, versions["bad"])
    done = wb.fidelity.override(versions["bad"], "brand signed the swatch off", action="export")
    rows = wb.sql("SELECT id, version_id, report_id, action, reason, actor FROM fidelity_overrides")
    assert rows == [{"id": done["id"], "version_id": versions["bad"], "report_id": done["report_id"],
                     "action": "export", "reason": "brand signed the swatch off", "actor": "tester"}]
    assert _render_and_export(wb, versions["bad"]).ok


def test_a_newer_passing_report_lets_it_through_without_an_override(wb, versions):
    with pytest.raises(TransitionForbidden):
        wb.review.approve(versions["bad"])
    # the recipe recolours on purpose after all: scored again with the rule off (and its reason), it passes
    wb.settings.update_file({"fidelity": {"disable": {"colour": "the shade is the point of this asset"}}})
    assert wb.fidelity(versions["bad"], ["SKU-1001"])["passed"]
    assert wb.fidelity.gate(versions["bad"])["blocked"] is False
    wb.review.approve(versions["bad"])
    assert wb.sql("SELECT count(*) AS n FROM fidelity_overrides") == [{"n": 0}]


def test_the_savings_report_counts_fidelity_rejections_once_per_image(wb, versions, tmp_path):
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 1
    assert "rejected for product fidelity: 1" in wb.reports.render(fmt="html")
    # scoring the same failing version again is still one rejection
    wb.fidelity(versions["bad"], ["SKU-1001"])
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 1
    # a failing output (scored against another product), then the version committed from it scored as
    # well, are one more rejection, not two
    mug_ref = tmp_path / "mug_SKU-3003.png"
    mug_ref.write_bytes(png(compose(mug(), studio(), shadow=False)))
    assert wb.ingest([mug_ref]).ok
    report = wb.generate(prompt="{{ sku }}", refs=["SKU-1001"], engines=["local"], seeds=[1])
    [output] = [o["id"] for r in report.runs for o in wb.generation.run(r["id"])["outputs"]]
    assert not wb.fidelity(output, ["SKU-3003"])["passed"]
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 2
    committed = wb.commit(output, asset="SKU-1001/from-output", autotag=False)
    assert not wb.fidelity(committed, ["SKU-3003"])["passed"]
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 2
    wb.fidelity.override(committed, "a mood shot, not a packshot")
    assert wb.reports.facts()["totals"]["fidelity_rejected"] == 1


def test_the_cli_refuses_approval_records_an_override_and_then_approves(capsys, wb, versions):
    project = ["-p", str(wb.root), "--json"]
    code, data = cli(capsys, "review", "approve", versions["bad"], *project)
    assert code == 2 and data["error"]["type"] == "TransitionForbidden", data
    assert "fails product fidelity" in data["error"]["message"] and "colour:" in data["error"]["message"]
    code, data = cli(capsys, "fidelity", versions["good"], "--override", "nothing wrong", *project)
    assert code == 2 and "no failing" in data["error"]["message"]  # nothing to override
    code, done = cli(capsys, "fidelity", versions["bad"], "--override", "brand approved the shade", *project)
    assert code == 0 and done["version_id"] == versions["bad"] and done["failed"] == ["colour"]
    assert wb.sql("SELECT reason, actor, action FROM fidelity_overrides") == [
        {"reason": "brand approved the shade", "actor": "tester", "action": "approve"}]
    code, row = cli(capsys, "review", "approve", versions["bad"], *project)
    assert code == 0 and row["to_state"] == "approved"


def test_a_version_committed_from_a_failing_output_is_held_by_the_outputs_report(wb, versions, tmp_path):
    mug_ref = tmp_path / "mug_SKU-3003.png"
    mug_ref.write_bytes(png(compose(mug(), studio(), shadow=False)))
    assert wb.ingest([mug_ref]).ok
    report = wb.generate(prompt="{{ sku }}", refs=["SKU-1001"], engines=["local"], seeds=[1])
    [output] = [o["id"] for r in report.runs for o in wb.generation.run(r["id"])["outputs"]]
    scored = wb.fidelity(output, ["SKU-3003"])  # the output only: the version is never scored itself
    assert not scored["passed"]
    version = wb.commit(output, asset="SKU-1001/from-output", autotag=False)
    assert [r["id"] for r in wb.fidelity.reports(version)] == [scored["id"]]
    assert wb.fidelity.latest([version])[version]["passed"] is False
    wb.review.submit(version)
    with pytest.raises(TransitionForbidden, match=scored["id"]):
        wb.review.approve(version)
