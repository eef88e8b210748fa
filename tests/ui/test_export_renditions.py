"""Export tab: renditions shown with their crop box and rule report in words, overrides with a reason,
refusals as sentences."""

from __future__ import annotations

from tests.ui.helpers import draw_png, make_session
from workbench.ui.panel.export import ExportView, frame
from workbench.ui.panel.renditions import rule_text
from workbench.ui.panel.state import ExportState


def _approved(wb, name="hero <b>mug</b>"):
    asset_id = wb.library.create_asset(name, sku="SKU-1001", role="output")
    version_id = wb.library.add_version(asset_id, wb.library.put_blob(draw_png((30, 60, 200), 640)))
    wb.review.submit(version_id)
    make_session(wb, "approver", "al").wb.review.approve(version_id)
    return version_id


def test_renditions_rules_in_words_override_and_refusals(library_wb):
    version_id = _approved(library_wb)
    session = make_session(library_wb, "approver", "al")
    export = ExportState(session)
    view = ExportView(state=export)
    view.versions.value = [version_id]
    assert "No renditions yet" in view.renditions_html.object  # nothing rendered yet: the hint says so
    view.render_btn.clicks += 1
    presets = {r["preset"] for r in export.renditions}
    assert presets == set(export.preset_options())
    html = view.renditions_html.object
    assert 'class="wb-crop"' in html and html.count('data-preset=') == len(presets)
    import html as html_lib

    for rendition in export.renditions:  # every rule of every check, in words
        for line in rendition["lines"]:
            assert html_lib.escape(rule_text(line), quote=True) in html
            assert not rule_text(line).startswith(("[", "{"))
    failed = export.failed_checks()
    assert failed, [r["lines"] for r in export.renditions]  # a 640 px drawing fails some channel's floor
    _label, check_id = next(iter(failed.items()))
    assert view.override_box.visible and check_id in view.failed.options.values()
    view.failed.value = check_id
    assert view.override_btn.disabled  # no reason yet
    view.reason.value = "  "
    view.override_btn.clicks += 1
    assert "needs a reason" in session.status or view.override_btn.disabled
    view.reason.value_input = view.reason.value = "the buyer asked for this size"
    assert not view.override_btn.disabled
    view.override_btn.clicks += 1
    assert "overridden" in session.status, session.status
    over = next(r for r in export.renditions if r["check_id"] == check_id)
    assert over["ok"] and over["override_reason"] == "the buyer asked for this size"
    assert "the buyer asked for this size" in view.renditions_html.object
    assert check_id not in export.failed_checks().values()
    export.plan()
    if export.refused:
        text = view.refused_table.object.to_string()
        assert "['" not in text and "failed checks" in text


def test_refusal_reasons_are_a_sentence_not_a_list_repr():
    table = frame([{"version_id": "v1", "preset": "p", "reasons": ["failed checks: dimensions: too small",
                                                                    "version is draft, not approved"]}],
                  ("version_id", "preset", "reasons"))
    cell = table.iloc[0]["reasons"]
    assert cell == "failed checks: dimensions: too small; version is draft, not approved"


def test_editor_cannot_override(library_wb):
    version_id = _approved(library_wb, "plain")
    library_wb.render(version_id)
    export = ExportState(make_session(library_wb, "editor", "ed"))
    view = ExportView(state=export)
    export.versions = [version_id]
    assert view.failed.disabled and "approver" in (view.override_btn.description or "")
    check_id = next(iter(export.failed_checks().values()))
    assert export.override(check_id, "because") is None and "approver" in export.session.status


def test_tables_read_as_text_no_nan_no_repeated_path_minutes_in_utc():
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 12, 3, 9, 41, 48, 988665, tzinfo=timezone(timedelta(hours=2)))
    rows = [{"asset": "a/hero", "remote_url": "A/a/p.jpg", "remote_id": "A/a/p.jpg", "exported_at": when},
            {"asset": "b/hero", "remote_url": "B/b/p.jpg", "remote_id": "B/b/p.jpg", "exported_at": None}]
    table = frame(rows, ("asset", "remote_url", "remote_id", "exported_at"))
    assert list(table.columns) == ["asset", "remote_url", "exported_at"]  # a folder's remote id is its path
    assert table.iloc[0]["exported_at"] == "2026-12-03 07:41 UTC" and table.iloc[1]["exported_at"] == ""
    plan = frame([{"action": "send", "preset": "p"}, {"action": "skip", "preset": "q", "remote_id": "X/q.jpg"}])
    assert plan.iloc[0]["remote_id"] == "" and "nan" not in plan.to_string()  # a key one row lacks


def test_typed_skus_show_and_render_their_renditions(library_wb):
    version_id = _approved(library_wb, "sku-typed")
    export = ExportState(make_session(library_wb, "approver", "al"))
    view = ExportView(state=export)
    export.skus = "SKU-1001"
    assert version_id in export.chosen_versions()
    assert "No renditions yet" in view.renditions_html.object
    view.render_btn.clicks += 1
    assert "Rendered" in export.session.status, export.session.status
    assert {str(r["version_id"]) for r in export.renditions} >= {version_id}
    assert 'data-preset=' in view.renditions_html.object


def test_every_approved_version_is_offered_past_one_page(library_wb, monkeypatch):
    from workbench.ui.panel import state_review

    monkeypatch.setattr(state_review, "_QUEUE_PAGE", 2)  # five approved versions over three pages
    versions = {_approved(library_wb, f"approved-{i}") for i in range(5)}
    export = ExportState(make_session(library_wb, "approver", "al"))
    assert set(export.approved_options().values()) == versions
    export.skus = "SKU-1001"
    assert set(export.chosen_versions()) == versions
