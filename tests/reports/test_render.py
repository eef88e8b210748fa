"""The rendered report: self-contained HTML, a real PDF, and the CLI."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from tests.reports.seed import seed
from workbench.cli import app
from workbench.errors import InvalidSpec


def test_html_is_self_contained_with_embedded_charts(wb, tmp_path):
    seed(wb)
    path = wb.savings_report(tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert html.count("data:image/png;base64,") == 4
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    assert "SKU-1001" in html and "studio v2" in html and "folder" in html
    assert "indicative" in html  # three approvals: thin data is flagged


def test_html_when_nothing_is_approved(wb):
    html = wb.savings_report()
    assert "No approved assets yet" in html
    assert "data:image/png" not in html
    assert "—" in html


def test_html_escapes_ledger_text(wb):
    seed(wb)
    with wb.ledger.connect(write=True) as con:
        con.execute("UPDATE assets SET name = '<script>alert(1)</script>' WHERE name = 'SKU-1002/hero'")
    html = wb.savings_report()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_pdf_has_pages(wb, tmp_path):
    seed(wb)
    data = wb.savings_report(fmt="pdf")
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    empty_path = wb.savings_report(tmp_path / "out" / "empty.pdf")
    assert empty_path.read_bytes().startswith(b"%PDF")


def test_unknown_format_is_invalid_spec(wb, tmp_path):
    with pytest.raises(InvalidSpec):
        wb.savings_report(tmp_path / "report.docx")


def test_cli_json_and_files(project_dir, tmp_path):
    import workbench

    seed(workbench.open(project_dir))
    runner = CliRunner()
    result = runner.invoke(app, ["report", "savings", "--project", str(project_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["facts"]["totals"]["approved_assets"] == 3
    assert data["savings"]["status"] == "thin"
    out = tmp_path / "r.pdf"
    result = runner.invoke(app, ["report", "savings", "--project", str(project_dir), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out"] == str(out)
    assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(app, ["report", "savings", "--project", str(project_dir), "--out",
                                 str(tmp_path / "r.html")])
    assert result.exit_code == 0
    assert (tmp_path / "r.html").exists()


def test_cli_help_exists():
    result = CliRunner().invoke(app, ["report", "savings", "--help"])
    assert result.exit_code == 0
    assert "--out" in result.stdout


def test_reports_core_imports_no_ui_toolkit():
    import subprocess
    import sys

    code = ("import sys, workbench.reports.service, workbench.reports.render, workbench.cli.reports; "
            "bad = [m for m in ('ipywidgets', 'panel', 'bokeh') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
