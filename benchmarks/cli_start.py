"""Benchmark: start-up of simple CLI commands against ``python -c "import httpx"``.

A project with three ingested references is made in a temp folder. Each round runs, as real processes with
the same interpreter, ``python -c "import httpx"`` (the baseline: the HTTP client every connector needs,
so the least a command could import), ``workbench --help`` and ``workbench assets --project DIR``; rounds
alternate so machine noise hits all three alike. ``ours`` is the slower command's median wall time; the
target is at most 3× the baseline's median.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROUNDS = 9
TARGET = 3.0


def make_project(root: Path) -> Path:
    """A project with three small references (ingested through the API, not timed)."""
    from PIL import Image

    import workbench

    refs = root / "refs"
    refs.mkdir()
    for i, colour in enumerate(("navy", "tomato", "gold")):
        Image.new("RGB", (64, 48), colour).save(refs / f"SKU-{100 + i}_front.png")
    project = root / "project"
    wb = workbench.init(project)
    wb.ingest([refs], autotag=False)
    return project


def wall(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds one run of ``cmd`` takes (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=120)
    return time.perf_counter() - start


def main() -> None:
    """Time the three commands and print the RESULT line."""
    bindir = Path(sys.executable).parent
    cli = str(bindir / "workbench") if (bindir / "workbench").exists() else None
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        # bytecode on, as on a user's machine: the baseline's .pyc files were written when httpx was
        # installed, ours are written by the warm-up run (PYTHONDONTWRITEBYTECODE would make every run
        # compile the workbench package from source)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update({"WORKBENCH_PROJECT": str(project), "COLUMNS": "160"})
        base = [sys.executable, "-c", "import httpx"]
        wb_cmd = [cli] if cli else [sys.executable, "-m", "workbench.cli"]
        commands = {"baseline": base, "--help": [*wb_cmd, "--help"], "assets": [*wb_cmd, "assets"]}
        for cmd in commands.values():  # warm the OS caches and the .pyc files once
            wall(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, cmd in commands.items():
                times[name].append(wall(cmd, env))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    baseline = med.pop("baseline")
    for name, value in med.items():
        print(f"workbench {name}: median {value * 1000:.0f} ms ({value / baseline:.2f}x baseline "
              f"{baseline * 1000:.0f} ms), {ROUNDS} rounds")
    ours = max(med.values())
    print(f"RESULT cli_start ours={ours:.3f} baseline={baseline:.3f} ratio={ours / baseline:.2f} target={TARGET:g} x")


if __name__ == "__main__":
    main()
