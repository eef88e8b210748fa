"""The project's own files are never read as input (issue 15 item 7): opening the ledger through a second
handle and closing it would drop this process's POSIX lock and let another process write under us."""

from __future__ import annotations

import shutil

import pytest

from tests.library import samples
from workbench.errors import InvalidSpec, LedgerError


def test_ingesting_a_folder_that_holds_the_project_skips_its_ledger_store_and_cache(wb, tmp_path, monkeypatch):
    import builtins
    import io

    shutil.copy(samples.save(samples.product(300, seed=1), tmp_path / "p.jpg", "JPEG"), wb.root / "mug_SKU-1001.jpg")
    wb.ingest([wb.root / "mug_SKU-1001.jpg"])  # a blob in the store and a thumbnail in the cache
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(io, "open", spy)
    report = wb.ingest([wb.root.parent])  # the folder that contains the project folder
    internal = [str(p) for p in wb.project.internal_paths()]
    assert not [f for f in opened if any(f == p or f.startswith(p + "/") for p in internal)]
    assert {i.status for i in report.items} <= {"duplicate", "ingested"}
    direct = wb.ingest([wb.root / "ledger.duckdb"])
    assert direct.items[0].status == "failed" and direct.items[0].error_code == "project_file"


def test_commit_refuses_a_file_of_the_project_itself(wb):
    with pytest.raises(InvalidSpec, match="part of the project"):
        wb.commit(asset="x", path=wb.root / "ledger.duckdb")


def test_a_storage_failure_inside_a_unit_of_work_is_a_ledger_error(wb):
    """A DuckDB I/O error becomes a LedgerError of our tree, and the unit of work is rolled back."""
    with pytest.raises(LedgerError, match="could not be read or written"), wb.ledger.connect(write=True) as con:
        con.execute("INSERT INTO notes (id, asset_id, body, author) VALUES ('n1', 'a', 'b', 'c')")
        con.execute("COPY notes TO '/nonexistent/dir/notes.csv'")
    assert wb.sql("SELECT count(*) AS n FROM notes") == [{"n": 0}]


def test_a_project_on_a_shared_store_keeps_no_objects_folder_of_its_own(tmp_path):
    import workbench
    from workbench.project import create_project_files

    local = create_project_files(tmp_path / "local")
    assert (local / "objects").is_dir()

    bucket = tmp_path / "bucket"
    shared = create_project_files(tmp_path / "shared", store=bucket.as_uri())
    assert not (shared / "objects").exists()
    sha, _ = workbench.open(shared).project.store.put(b"one blob")
    assert (bucket / sha[:2] / sha[2:]).read_bytes() == b"one blob"
    assert not (shared / "objects").exists()
