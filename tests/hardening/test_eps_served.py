"""Issue 15 item 3, served: a looping EPS (and other documents) in the Library of a running dashboard.

Ghostscript used to be started for every thumbnail of an EPS: each `gs` spun forever, filled the thumbnail
executor and hung every request, and outlived the server. Here a `gs` that records its calls and spins is on
the server's PATH; a burst of thumbnail requests for the documents is answered (a 404 each), the Library page,
an image's thumbnail and a review action still answer, and no `gs` process ever exists under the server.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

import workbench
from tests.browser.conftest import _free_port, serving

from .samples import LOOPING_EPS, fake_ghostscript, product_png

pytestmark = pytest.mark.slow


def _gs_under(pid: int) -> list[str]:
    """Names and PIDs of `gs` processes below ``pid`` (and anywhere, as psutil sees them)."""
    found = []
    try:
        below = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        below = []
    for proc in [*below, *psutil.process_iter(["name"])]:
        try:
            if proc.name() == "gs" or Path(proc.exe()).name == "gs":
                found.append(f"{proc.pid}:{proc.name()}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def test_a_looping_eps_in_the_served_library_starts_no_gs_and_hangs_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    wb = workbench.init(project)
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "brochure.eps").write_bytes(LOOPING_EPS)
    (refs / "flyer.ps").write_bytes(LOOPING_EPS.replace(b"EPSF-3.0", b""))
    (refs / "spec.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n")
    (refs / "mug_SKU-1001.png").write_bytes(product_png())
    report = wb.ingest([refs])
    assert report.counts()["ingested"] == 4
    documents = [i.sha256 for i in report.items if i.kind != "image"]
    image = next(i for i in report.items if i.kind == "image")
    assert len(documents) == 3

    bin_dir = tmp_path / "bin"
    fake_ghostscript(bin_dir)
    port = _free_port()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "WORKBENCH_USER": "server"}
    cmd = [sys.executable, "-m", "workbench", "serve", "--project", str(project), "--port", str(port)]
    with serving(cmd, port, tmp_path / "serve.log", env=env, cwd=tmp_path) as server, \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        # more document thumbnails at once than the executor has threads, twice over
        urls = [f"/thumb/{sha}" for sha in documents] * 24
        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda u: client.get(u).status_code, urls))
        assert set(statuses) == {404}, statuses
        assert "not an image" in client.get(f"/thumb/{documents[0]}").json()["error"]
        # ...and everything else still answers
        thumb = client.get(f"/thumb/{image.sha256}")
        assert thumb.status_code == 200 and thumb.headers["content-type"].startswith("image/")
        page = client.get("/", follow_redirects=True)
        assert page.status_code == 200
        comment = client.post("/api/actions/comment", json={"version_id": image.version_id, "body": "looks right"})
        assert comment.status_code == 200, comment.text
        assert _gs_under(server.pid) == []
    assert not (bin_dir / "gs-calls").exists(), (bin_dir / "gs-calls").read_text()
    assert _gs_under(os.getpid()) == []  # none outlived the server either
