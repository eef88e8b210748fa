"""Another project's test images as a hostile corpus: Pillow's sdist ships ~1,000 files under ``Tests/images``
(valid images of every format Pillow reads, truncated and fuzzed files, decompression bombs, EPS, PDF, PSD…).

The sdist of the *installed* Pillow is fetched with pip (the registry's own client) into a cache folder
(``$WORKBENCH_TEST_CACHE``, else ``~/.cache/workbench-tests``) once, and its ``Tests/images`` unpacked there;
offline, the tests that need it skip and say why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import PIL
import pytest

__all__ = ["pillow_test_images"]

_MIN_FILES = 300


def _cache_root() -> Path:
    root = os.environ.get("WORKBENCH_TEST_CACHE") or Path.home() / ".cache" / "workbench-tests"
    return Path(root)


def _download(version: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    # `--no-binary pillow` (not :all:): the build requirements pip needs to read the sdist's metadata come
    # as wheels, which takes seconds instead of building setuptools from source
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "pillow", "--dest", str(into),
           "--disable-pip-version-check", f"pillow=={version}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download of the pillow {version} sdist took over 600 s (offline or slow registry)")
    found = sorted(into.glob(f"pillow-{version}.tar.gz")) + sorted(into.glob(f"Pillow-{version}.tar.gz"))
    if done.returncode != 0 or not found:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
        pytest.skip(f"cannot download the pillow {version} sdist for the hostile corpus (offline?): {tail[-300:]}")
    return found[0]


def _unpack(sdist: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and "/Tests/images/" in m.name]
        for member in members:
            member.name = member.name.split("/Tests/images/", 1)[1]
            if member.name and not member.name.startswith(("/", "..")) and "/../" not in member.name:
                tar.extract(member, tmp, filter="data")
    tmp.rename(dest)


def pillow_test_images() -> Path:
    """The folder of Pillow's test images for the installed Pillow version (downloaded once), or skip."""
    version = PIL.__version__
    root = _cache_root() / f"pillow-{version}"
    images = root / "images"
    if not images.is_dir():
        sdists = sorted(root.glob("*.tar.gz"))
        sdist = sdists[0] if sdists else _download(version, root)
        _unpack(sdist, images)
    count = sum(1 for p in images.rglob("*") if p.is_file())
    if count < _MIN_FILES:
        pytest.fail(f"the pillow {version} sdist has only {count} test images under Tests/images (< {_MIN_FILES})")
    return images
