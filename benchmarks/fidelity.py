"""Benchmark: one whole fidelity report per 1024² pair against decoding both images and one SSIM.

A 1024 × 1024 reference (the drawn, labelled bottle on a studio backdrop) and a 1024 × 1024 output (the same
bottle moved and scaled on a warm gradient) are PNG bytes in memory. Each round, in one worker process (as a
batch executor's worker runs it: the OCR engine loaded once, the per-reference caches emptied so every round
pays for the reference too), times

* ``ours``: :func:`workbench.fidelity.score` — decode both, mask both, align, the five rules (OCR included),
  the heatmap PNG;
* ``baseline``: decoding both images with the same decoder (:func:`workbench.imaging.decode.decode_rgba`) and
  one ``skimage.metrics.structural_similarity`` over them (RGB, ``channel_axis=-1``).

Rounds alternate so machine noise hits both alike; medians are compared (target ≤ 3×). A second line reports
the scoring process's peak RSS (``VmHWM``) after also scoring a 4096² output, which is shrunk on load to
1024 px (target ≤ 600 MB), next to a process that only decoded the 4096² image whole.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROUNDS = 7
TARGET = 3.0
RSS_TARGET_MB = 600


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ``ru_maxrss`` it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _images() -> tuple[bytes, bytes, bytes]:
    from PIL import Image

    from tests.fidelity.products import bottle, compose, gradient, png, studio

    ref = png(compose(bottle(), studio(1024), scale=1.4, shadow=False))
    out = png(compose(bottle(), gradient(1024), scale=1.1, centre=(0.42, 0.55)))
    big = compose(bottle(size=2400), studio(4096), centre=(0.45, 0.5))
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, "PNG", compress_level=1)
    return ref, out, buf.getvalue()


def _score_worker(conn, ref: bytes, out: bytes, big: bytes) -> None:
    from skimage.metrics import structural_similarity

    from workbench.fidelity import scoring
    from workbench.imaging.decode import decode_rgba

    def ours() -> float:
        scoring._cache.clear()
        scoring._texts.clear()
        t = time.perf_counter()
        report = scoring.score(out, [ref])
        assert report.passed, report.failed
        return time.perf_counter() - t

    def baseline() -> float:
        t = time.perf_counter()
        a, b = decode_rgba(ref)[..., :3], decode_rgba(out)[..., :3]
        structural_similarity(a, b, channel_axis=-1, data_range=255)
        return time.perf_counter() - t

    ours()  # warm: the OCR engine and the libraries load once per worker
    baseline()
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    for _ in range(ROUNDS):
        times["ours"].append(ours())
        times["baseline"].append(baseline())
    rss_1024 = _peak_mb()
    big_report = scoring.score(big, [ref])
    rss = _peak_mb()
    conn.send({"times": times, "rss_1024": rss_1024, "rss": rss, "big_size": big_report.size})


def _decode_whole(conn, big: bytes) -> None:
    from workbench.imaging.decode import decode_rgba

    decode_rgba(big)
    conn.send(_peak_mb())


def _in_process(target, *args):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args))
    proc.start()
    if not parent.poll(900):
        proc.kill()
        raise SystemExit("benchmark worker did not answer within 900 s")
    value = parent.recv()
    proc.join(30)
    return value


def main() -> None:
    """Run the rounds in a worker process and print the RESULT lines."""
    ref, out, big = _images()
    got = _in_process(_score_worker, ref, out, big)
    whole = _in_process(_decode_whole, big)
    ours, base = statistics.median(got["times"]["ours"]), statistics.median(got["times"]["baseline"])
    print(f"per pair: ours {ours:.3f} s (min {min(got['times']['ours']):.3f}), baseline {base:.3f} s "
          f"(min {min(got['times']['baseline']):.3f}); 4096² output scored at {got['big_size']}")
    print(f"peak RSS of the scoring process: {got['rss_1024']:.0f} MB after the 1024² rounds, {got['rss']:.0f} MB "
          f"after the 4096² output; a process decoding that 4096² image whole: {whole:.0f} MB")
    print(f"RESULT fidelity ours={ours:.3f} baseline={base:.3f} ratio={ours / base:.2f} target={TARGET:g} x")
    print(f"RESULT fidelity_rss ours={got['rss']:.0f} baseline={whole:.0f} ratio={got['rss'] / whole:.2f} "
          f"target={RSS_TARGET_MB} MB")


if __name__ == "__main__":
    main()
