"""Ingest decoding and auto-tagging on the batch executor (issue 14), on this machine: the same library whether
the work ran in this process or in a pool of processes, a broken file failing alone, nothing left behind."""

from __future__ import annotations

import workbench
from workbench.executor import LocalExecutor
from workbench.library.tagging import _offloaded, load_taggers

from .ingest_support import BROKEN, library_state, reference_folder

N = 6


def _check_report(report, n: int = N) -> None:
    assert report.counts() == {"ingested": n, "duplicate": 0, "failed": len(BROKEN)}, report.failed
    failed = {item.path.rsplit("/", 1)[1]: item for item in report.failed}
    assert {name: item.error_code for name, item in failed.items()} == BROKEN
    assert all(item.error for item in failed.values())
    assert report.tagging == {"tagged": n, "failed": 0, "seconds": report.tagging["seconds"]}


def test_a_pool_of_processes_gives_the_library_this_process_gives(tmp_path):
    reference_folder(tmp_path / "refs", N)
    inline = workbench.init(tmp_path / "inline")
    _check_report(inline.ingest([tmp_path / "refs"], workers=1))
    pooled = workbench.init(tmp_path / "pooled")
    with LocalExecutor(2) as pool:
        _check_report(pooled.ingest([tmp_path / "refs"], executor=pool))
        assert pool.executed == 2 * N + len(BROKEN)  # a decode per file and a tagging per new image, all here
    expected = library_state(inline)
    assert len(expected) == N and all(s["thumbnail"] for s in expected.values())
    assert all(s["tags"] for s in expected.values()), "auto-tagging found nothing: the comparison would be empty"
    assert library_state(pooled) == expected


def test_a_broken_file_fails_alone_and_leaves_nothing_behind(tmp_path):
    reference_folder(tmp_path / "refs", 3)
    wb = workbench.init(tmp_path / "p")
    with LocalExecutor(1) as ex:
        report = wb.ingest([tmp_path / "refs"], executor=ex)
    _check_report(report, 3)
    assert len(list(wb.store.iter_shas())) == 3 and not wb.store.stray_temp_files()
    assert wb.library.verify().ok
    again = wb.ingest([tmp_path / "refs"])  # the good ones are duplicates now, the broken ones fail the same way
    assert again.counts() == {"ingested": 0, "duplicate": 3, "failed": len(BROKEN)}


def test_the_same_bytes_are_decoded_once_per_submission(tmp_path):
    paths = reference_folder(tmp_path / "refs", 2)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "again_SKU-7000.jpg").write_bytes(paths[0].read_bytes())
    wb = workbench.init(tmp_path / "p")
    with LocalExecutor(1) as ex:
        report = wb.ingest([paths[0], paths[1], tmp_path / "copy" / "again_SKU-7000.jpg"], executor=ex, autotag=False)
        assert ex.executed == 2
    assert report.counts() == {"ingested": 2, "duplicate": 1, "failed": 0}


def test_api_backed_taggers_stay_in_the_driver(wb):
    everything = load_taggers(wb.project, ["basic", "faces", "prompt", "gemini_vision"])
    # gemini_vision needs a key: it never travels with a task (and waits on the network, not the CPU)
    assert sorted(_offloaded(wb.project, ["basic", "faces", "prompt", "gemini_vision"], everything)) == [
        "basic", "faces", "prompt"]
    mine = everything[0]
    assert "basic" not in _offloaded(wb.project, [mine], [mine])  # an instance handed in is run as it is
