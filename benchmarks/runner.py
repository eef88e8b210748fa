"""Benchmark: the async runner against the fake Gemini provider over loopback.

400 requests, 1 s provider latency, the provider admits 16 concurrent and 480 requests/min and fails 5 %
with 429 (retry after 1 s) and 2 % with 500. The runner is configured with the same limits (concurrency 16,
rpm 480). The ideal wall time is set by the binding limit, computed here: with 16 slots × 1 s the
concurrency bound is 400/16 s, the rate bound is (400 − 1)·60/480 s + 1 s latency; the larger one binds.
Retries cost extra request slots, so a perfect runner lands a few percent above the ideal.

Checks (asserted and printed): every request's output is recorded, and the images the fake billed equal the
outputs recorded (no duplicate billing). Also prints the local engine's render time when it is importable.

Run: ``python benchmarks/runner.py`` (about a minute). Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import workbench  # noqa: E402
from tests.fakes.faults import FakeConfig  # noqa: E402
from tests.fakes.gemini import make_gemini_app  # noqa: E402
from tests.fakes.harness import LoopbackServer  # noqa: E402

N, LATENCY, CONCURRENCY, RPM = 400, 1.0, 16, 480
TARGET = 1.15


def local_render_seconds(wb: workbench.Workbench) -> float | None:
    """Seconds the local engine takes for one 1:1 render from a drawn reference, or None if unavailable."""
    try:
        from workbench_engines.local import LocalEngine  # noqa: F401

        from workbench.demo import make_sample_references
    except ImportError:
        return None
    refs = make_sample_references(Path(wb.root) / "refs")
    wb.ingest([p for p in refs if p.name.startswith("mug_")])
    t0 = time.perf_counter()
    report = wb.generate(prompt="mug on a marble counter, soft daylight", refs=["SKU-1001"], engines=["local"],
                         aspect="1:1", seeds=[1])
    elapsed = time.perf_counter() - t0
    return elapsed if report.ok else None


def main() -> None:
    os.environ["GEMINI_API_KEY"] = "test-key"
    os.environ.setdefault("WORKBENCH_USER", "bench")
    config = FakeConfig(latency_s=LATENCY, max_concurrency=CONCURRENCY, rpm=RPM, fail_429_rate=0.05,
                        fail_500_rate=0.02, seed=7, image_scale=0.125)
    app = make_gemini_app(config)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(app) as server:
        wb = workbench.init(Path(tmp) / "project")
        wb.settings.update_file({"engines": {"gemini": {"base_url": server.url, "concurrency": CONCURRENCY,
                                                        "rpm": RPM, "timeout_s": 30.0}}})
        plan = wb.plan(prompt="product shot {{ i }}, navy mug on marble", engines=["gemini"],
                       variables={"i": [str(i) for i in range(N)]})
        assert plan.count == N
        marks: dict[str, float] = {}

        def progress(event: dict) -> None:  # type: ignore[type-arg]
            now = time.perf_counter()
            if event["event"] == "start":
                marks.setdefault("first_start", now)
            elif event["event"] == "finish":
                marks["last_finish"] = now

        t0 = time.perf_counter()
        report = wb.generate(plan, on_progress=progress)
        wall = time.perf_counter() - t0

        stats = app.state.stats
        outputs = wb.sql("SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM run_outputs")[0]
        attempts = wb.sql("SELECT sum(attempts) AS a, max(attempts) AS m FROM runs")[0]
        concurrency_bound = math.ceil(N / CONCURRENCY) * LATENCY
        rate_bound = (N - 1) * 60.0 / RPM + LATENCY
        ideal = max(concurrency_bound, rate_bound)
        print(f"requests planned: {N}; runs {report.counts}; outputs recorded {outputs['n']} "
              f"for {outputs['runs']} runs")
        print(f"provider saw {stats.requests} requests (statuses {dict(stats.statuses)}; "
              f"faults {dict(stats.faults)}); max in flight {stats.max_in_flight}")
        print(f"runner attempts: total {attempts['a']}, max per run {attempts['m']}; images billed "
              f"{stats.images_billed}")
        print(f"wall time {wall:.2f} s; ideal {ideal:.2f} s (concurrency bound {concurrency_bound:.1f} s, "
              f"rate bound {rate_bound:.1f} s)")
        retry_floor = (int(stats.requests) - 1) * 60.0 / RPM + LATENCY
        print(f"of which: {marks.get('first_start', t0) - t0:.2f} s before the first request (plan written), "
              f"{t0 + wall - marks.get('last_finish', t0 + wall):.2f} s after the last run was recorded (report "
              f"read back); {stats.requests} requests at {RPM}/min need {retry_floor:.2f} s")
        assert report.counts == {"succeeded": N}, report.counts
        assert outputs == {"n": N, "runs": N}, outputs
        assert stats.images_billed == outputs["n"], (stats.images_billed, outputs)
        print("check: every request's output recorded: OK; images billed == outputs (no duplicate billing): OK")

        local = local_render_seconds(wb)
        if local is not None:
            print(f"local engine: one 1:1 render (plus recording) took {local:.2f} s")
        else:
            print("local engine: not importable; skipped")

        ratio = wall / ideal
        print(f"RESULT runner ours={wall:.2f} baseline={ideal:.2f} ratio={ratio:.3f} target={TARGET} s")


if __name__ == "__main__":
    main()
