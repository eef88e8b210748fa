"""A team project: the ledger on a real PostgreSQL server (through DuckDB's postgres extension).

The whole loop runs unchanged on it (ingest, generate, commit, review, render, export, ``wb.sql``, lineage,
``verify``); two processes writing at once lose and double nothing; a version number two writers race for is
retried, not duplicated; the password never reaches settings, errors or the ledger's name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from workbench.errors import InvalidSpec, LedgerError
from workbench.facade import init_project, open_project

pytestmark = pytest.mark.team


def _team_url(postgres_url: str, schema: str) -> str:
    return f"{postgres_url}?schema={schema}"


def _reference(path: Path, colour=(30, 50, 120)) -> Path:
    img = Image.new("RGB", (900, 760), (247, 247, 247))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((320, 150, 560, 620), radius=18, fill=colour)
    img.save(path)
    return path


def test_the_whole_loop_runs_on_a_team_ledger(postgres_url, pg_schema, tmp_path):
    wb = init_project(tmp_path / "team", ledger=_team_url(postgres_url, pg_schema))
    assert wb.project.team and not (tmp_path / "team" / "ledger.duckdb").exists()
    assert wb.ledger.display.endswith(f"?schema={pg_schema}")
    report = wb.ingest([str(_reference(tmp_path / "mug_SKU-1001.png"))])
    assert [i.status for i in report.items] == ["ingested"]
    again = wb.ingest([str(_reference(tmp_path / "copy_SKU-1001.png"))])  # same bytes: a duplicate, no new blob
    assert [i.status for i in again.items] == ["duplicate"]
    run = wb.generate(prompt="{{ sku }} on {{ background }}", refs=["SKU-1001"],
                      variables={"background": ["white studio", "oak table"]}, seeds=[1], engines=["local"])
    assert run.ok, run.runs
    first, second = run.outputs()
    wb.commit(first["id"], asset="SKU-1001/hero", message="picked")
    vid2 = wb.commit(second["id"], asset="SKU-1001/hero", message="better")
    wb.review.submit(vid2)
    wb.review.approve(vid2)
    (rend,) = wb.render(vid2, ["shopify_square"])
    assert rend["check"]["passed"], rend["check"]["report"]
    folder = wb.export("folder", presets=["shopify_square"])
    assert folder.ok and folder.counts == {"sent": 1}, folder.to_dict()
    # a second process (a colleague's notebook) sees all of it through the same DuckDB SQL
    rows = wb.sql("SELECT a.name, v.number, s.state FROM versions v JOIN assets a ON a.id = v.asset_id "
                  "JOIN version_state s ON s.version_id = v.id WHERE a.name = 'SKU-1001/hero' ORDER BY v.number")
    assert [(r["number"], r["state"]) for r in rows] == [(1, "draft"), (2, "approved")]
    lineage = wb.lineage(vid2)
    (made_by,) = [r["id"] for r in run.runs if second in r["outputs"]]
    assert made_by in lineage["nodes"]  # the version traces to the run that made it
    assert wb.history("SKU-1001/hero")
    report = wb.library.verify()
    assert report.ok, report.errors
    other = subprocess.run(
        [sys.executable, "-m", "workbench", "sql", "--project", str(tmp_path / "team"), "--json",
         "SELECT count(*) AS n FROM versions"], capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout)[0]["n"] == 3


def test_wb_sql_on_a_team_ledger_stays_read_only(postgres_url, pg_schema, tmp_path):
    wb = init_project(tmp_path / "team", ledger=_team_url(postgres_url, pg_schema))
    from workbench.errors import ReadOnlyViolation

    for statement in ("DELETE FROM versions", "SELECT * FROM postgres_query('team_ledger', 'SELECT 1')",
                      "CALL postgres_execute('team_ledger', 'DROP TABLE versions')", "SELECT * FROM duckdb_secrets()"):
        with pytest.raises((ReadOnlyViolation, InvalidSpec)):
            wb.sql(statement)
    assert wb.sql("SELECT count(*) AS n FROM versions") == [{"n": 0}]


_WRITER = textwrap.dedent("""
    import io, sys
    from PIL import Image
    from workbench.facade import open_project
    wb = open_project(sys.argv[1], user=sys.argv[2])
    asset, count, shared = sys.argv[3], int(sys.argv[4]), sys.argv[5]
    for i in range(count):
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (i % 256, (i // 256) % 256, len(asset))).save(buf, "PNG")
        wb.commit(data=buf.getvalue(), asset=asset, message=f"{asset} {i}")
        if i % 10 == 0:  # both writers also race for version numbers of one shared asset
            wb.commit(data=buf.getvalue(), asset=shared, message=f"{asset} shared {i}")
    print("done")
""")


@pytest.mark.slow
def test_two_processes_commit_1000_versions_each_nothing_lost_nothing_doubled(postgres_url, pg_schema, tmp_path):
    root = tmp_path / "team"
    wb = init_project(root, ledger=_team_url(postgres_url, pg_schema))
    wb.commit(data=_png_bytes(), asset="shared/board", message="seed")
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(script), str(root), user, f"{user}/asset", "1000", "shared/board"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for user in ("alice", "bob")]
    for proc in procs:
        _out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
    counts = {r["name"]: (r["n"], r["numbers"], r["top"]) for r in wb.sql(
        "SELECT a.name, count(*) AS n, count(DISTINCT v.number) AS numbers, max(v.number) AS top "
        "FROM versions v JOIN assets a ON a.id = v.asset_id GROUP BY a.name")}
    assert counts["alice/asset"] == (1000, 1000, 1000)
    assert counts["bob/asset"] == (1000, 1000, 1000)
    assert counts["shared/board"] == (201, 201, 201)  # 1 + 100 per writer, numbers unique and gap-free
    commits = wb.sql("SELECT count(*) AS n FROM events WHERE action = 'commit'")[0]["n"]
    assert commits == 2201
    assert open_project(root).library.verify(rehash=False).ok


def _png_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def test_the_password_stays_out_of_settings_errors_and_names(postgres_url, pg_schema, tmp_path, monkeypatch):
    with pytest.raises(InvalidSpec, match="must not carry a password"):
        init_project(tmp_path / "p1", ledger=postgres_url.replace("postgres@", "postgres:hunter2@") + "?schema=x")
    root = tmp_path / "p2"
    root.mkdir()
    (root / "workbench.toml").write_text(
        '[project]\nledger = "postgresql://nobody@127.0.0.1:1/postgres?schema=x"\n', encoding="utf-8")
    monkeypatch.setenv("PGPASSWORD", "s3cr3t-team-pass")
    with pytest.raises(LedgerError) as refused:
        open_project(root)
    assert "s3cr3t-team-pass" not in str(refused.value) and "127.0.0.1:1" in str(refused.value)
    monkeypatch.delenv("PGPASSWORD")
    wb = init_project(tmp_path / "p3", ledger=_team_url(postgres_url, pg_schema))
    assert "hunter2" not in wb.ledger.display and "@" in wb.ledger.display


@pytest.fixture
def s3_store(monkeypatch):
    """A bucket on a real S3-compatible server (moto) that the object store reaches through fsspec/s3fs."""
    import boto3
    from fakes.harness import moto_server

    with moto_server() as url:
        for name, value in (("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE"), ("AWS_SECRET_ACCESS_KEY", "s3SECRETsecret0000"),
                            ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", url)):
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket="team-blobs")
        yield "s3://team-blobs/project"


def test_two_machines_share_a_team_ledger_and_an_s3_store(postgres_url, pg_schema, tmp_path, s3_store):
    url = _team_url(postgres_url, pg_schema)
    laptop = init_project(tmp_path / "laptop", ledger=url, store=s3_store)
    assert not laptop.store.is_local
    laptop.ingest([str(_reference(tmp_path / "mug_SKU-1001.png"))])
    made = laptop.generate(prompt="{{ sku }} on white", refs=["SKU-1001"], seeds=[1, 2], engines=["local"])
    assert made.ok, made.runs
    # another machine: its own folder with the same two settings, nothing copied between them
    server = init_project(tmp_path / "server", ledger=url, store=s3_store)
    outputs = [o for r in made.runs for o in r["outputs"]]
    vid = server.commit(outputs[1]["id"], asset="SKU-1001/hero", message="picked on the dashboard")
    server.review.submit(vid)
    server.review.approve(vid)
    assert laptop.review.state(vid)["state"] == "approved"  # the laptop sees the dashboard's approval
    (rend,) = laptop.render(vid, ["shopify_square"])
    assert rend["check"]["passed"], rend["check"]["report"]
    assert laptop.export("folder", presets=["shopify_square"]).counts == {"sent": 1}
    assert server.library.verify().ok and laptop.library.verify().ok


def edits_of_generated_media_stay_flagged(wb, tmp_path) -> None:
    """Three edits without runs on top of a generated version: each still names the run and says 'edited'."""
    from workbench.lineage import summaries

    wb.ingest([str(_reference(tmp_path / "mug_SKU-1001.png"))])
    made = wb.generate(prompt="{{ sku }} on white", refs=["SKU-1001"], seeds=[1], engines=["local"])
    (output,) = made.outputs()
    (run_id,) = [r["id"] for r in made.runs]
    first = wb.commit(output["id"], asset="SKU-1001/hero", message="generated")
    edits = []
    for i, colour in enumerate(((200, 30, 30), (30, 200, 30), (30, 30, 200))):
        edits.append(wb.commit(data=_png_of(colour), asset="SKU-1001/hero", message=f"retouch {i}"))
    side = wb.commit(data=_png_of((9, 9, 9)), asset="SKU-1001/hero", parent=edits[0], message="a branch")
    with wb.ledger.connect() as con:
        facts = summaries(con, [first, *edits, side])
    assert facts[first]["ai_generated"] and not facts[first]["ai_edited"]
    for vid in [*edits, side]:
        assert facts[vid]["ai_edited"] and facts[vid]["run"] == {"run_id": run_id, "inherited": True}, facts[vid]


def _png_of(colour) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, "PNG")
    return buf.getvalue()


def test_edits_of_generated_media_stay_flagged_on_a_team_ledger(postgres_url, pg_schema, tmp_path):
    edits_of_generated_media_stay_flagged(init_project(tmp_path / "team", ledger=_team_url(postgres_url, pg_schema)),
                                          tmp_path)


def test_edits_of_generated_media_stay_flagged_on_the_embedded_file(tmp_path):
    edits_of_generated_media_stay_flagged(init_project(tmp_path / "solo"), tmp_path)
