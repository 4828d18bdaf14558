"""Shared pieces of the side-by-side benchmarks: timing, the machine, the roofline, markdown output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

# `gfo-native bench --out DIR` points this elsewhere (the installed scripts live in site-packages).
RESULTS_DIR = Path(os.environ.get("GFO_BENCH_OUT") or Path(__file__).resolve().parent.parent / "results")


def parse_args(description: str = "") -> argparse.Namespace:
    """The flags every bench script takes: --quick (small sizes and few repeats, for `gfo-native bench --quick`)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    return p.parse_args()


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import gfo_native as gn

        info = gn.build_info()
        build = f"gfo_native {info['version']} simd={info['simd']} threads={info['max_threads']}"
    except Exception:  # noqa: BLE001 - the line is informative only
        build = "gfo_native not importable"
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}, " \
           f"Python {platform.python_version()}, NumPy {np.__version__}, {build}"


def timeit(fn: Callable[[], object], repeat: int = 11, warmup: int = 2, min_time: float = 0.0) -> float:
    """Median wall time of one call, in seconds, after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    while len(times) < repeat or sum(times) < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def roofline(nbytes: int = 256 << 20, repeat: int = 11, statistic: str = "median") -> Any:
    """This run's memory roofline on every thread (gfo_native.roofline.memory_bandwidth): a parallel copy and a
    parallel in-place scale, read + write bytes per second; fractions are reported of ``.best``, the larger."""
    import gfo_native as gn

    return gn.roofline.memory_bandwidth(nbytes, repeat=repeat, statistic=statistic)


class InPlaceStream:
    """The roofline kernel to pair with a kernel's rounds: gfo_native.roofline's in-place stream over about
    ``nbytes`` (read + write; exactly ``moved``) on the package's current threads."""

    def __init__(self, nbytes: int) -> None:
        self.a = np.ones(max(1, nbytes // 16))  # float64, read and written: nbytes in all
        self.moved = 2 * self.a.nbytes

    def step(self) -> None:
        import gfo_native as gn

        gn.roofline.stream_scale(self.a, 1.0)


class Paired(NamedTuple):
    """A kernel timed in rounds interleaved with the roofline kernel (see :func:`paired_with_roofline`)."""

    seconds: float  # median time of one call of the kernel
    roofline: float  # median bytes/s of the roofline kernel over the same rounds
    fraction: float  # median over rounds of (kernel bytes/s) / (roofline bytes/s) of that round


def paired_with_roofline(fn: Callable[[], object], nbytes: int, repeat: int = 11, warmup: int = 2) -> Paired:
    """Time ``fn`` (which moves ``nbytes``, read + write) and the in-place stream of gfo_native.roofline over
    the same bytes, alternately: the bandwidth of a shared machine drifts by a fifth within a minute, so a
    roofline measured at another moment can put a kernel at 1.3x "its roofline"; paired rounds cannot."""
    roof = InPlaceStream(nbytes)
    for _ in range(warmup):
        fn()
        roof.step()
    tf, tr = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        roof.step()
        t2 = time.perf_counter()
        tf.append(t1 - t0)
        tr.append(t2 - t1)
    return Paired(statistics.median(tf), statistics.median(roof.moved / t for t in tr),
                  statistics.median((nbytes / f) / (roof.moved / r) for f, r in zip(tf, tr)))


def roofline_note(bw: Any) -> str:
    """One sentence saying what the roofline of a report is, with its figures."""
    return (f"Memory roofline measured in this run on {bw.threads} threads (gfo_native.roofline, read + write "
            f"bytes): in-place {bw.inplace / 1e9:.1f} GB/s, copy {bw.copy / 1e9:.1f} GB/s; fractions are of the "
            f"larger, {bw.best / 1e9:.1f} GB/s.")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
        return str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def write_results(area: str, title: str, body: str, speedups: dict[str, float] | None = None,
                  curves: dict[str, dict[str, dict[str, list[float]]]] | None = None) -> Path:
    """Write bench/results/<area>.md (machine line first) and echo it.

    ``speedups`` (case -> ours/theirs speed ratio, > 1 means we are faster) and ``curves``
    (problem -> method -> {"evals", "median", "q1", "q3"}) go to <area>.json for the report's plots.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if speedups or curves:
        data = {"area": area, "title": title, "speedups": speedups or {}, "curves": curves or {}}
        (RESULTS_DIR / f"{area}.json").write_text(json.dumps(data, indent=1))
    text = f"## {title}\n\nMachine: {machine()}  \nRun: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{body}\n"
    path = RESULTS_DIR / f"{area}.md"
    path.write_text(text)
    print(text)
    return path


def skip(peer: str, why: str) -> None:
    print(f"[skip] {peer}: {why}")
