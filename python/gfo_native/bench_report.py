"""`gfo-native bench`: run the side-by-side comparisons and write a markdown report with PNG plots.

The scripts are ``bench/python/bench_<area>.py`` of a source checkout, or the copies installed with the
package (``gfo_native/bench``). Each writes ``<area>.md`` (tables) and ``<area>.json`` (speedups and
convergence curves) into the output folder; this module runs them and draws the plots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

AREAS = ["functions", "grad", "population", "es", "bo", "zo", "dist", "gpu"]


def find_scripts() -> dict[str, Path]:
    here = Path(__file__).resolve().parent
    for folder in (Path.cwd() / "bench" / "python", here / "bench"):
        scripts = {p.stem[len("bench_"):]: p for p in folder.glob("bench_*.py")}
        if scripts:
            return scripts
    return {}


def run(out: Path, quick: bool, only: list[str] | None) -> int:
    scripts = find_scripts()
    if not scripts:
        print("no benchmark scripts found (looked in ./bench/python and the installed gfo_native/bench)")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    wanted = [a for a in sorted(scripts, key=lambda a: AREAS.index(a) if a in AREAS else 99) if not only or a in only]
    unknown = set(only or ()) - set(scripts)
    if unknown:
        print(f"unknown areas {sorted(unknown)}; available: {sorted(scripts)}")
        return 2
    env = dict(os.environ, GFO_BENCH_OUT=str(out.resolve()))
    status = {}
    for area in wanted:
        print(f"\n=== bench {area} ({scripts[area].name}{' --quick' if quick else ''})", flush=True)
        t0 = time.perf_counter()
        cmd = [sys.executable, str(scripts[area])] + (["--quick"] if quick else [])
        rc = subprocess.call(cmd, env=env)
        status[area] = (rc, time.perf_counter() - t0)
    report = write_report(out, status)
    print(f"\nreport: {report}")
    return 0 if all(rc == 0 for rc, _ in status.values()) else 1


def write_report(out: Path, status: dict[str, tuple[int, float]]) -> Path:
    lines = ["# gfo_native benchmark report", ""]
    lines += ["| area | exit | seconds |", "|---|---|---|"]
    lines += [f"| {a} | {rc} | {dt:.1f} |" for a, (rc, dt) in status.items()]
    lines.append("")
    for area in status:
        md = out / f"{area}.md"
        if md.exists():
            lines.append(md.read_text())
        js = out / f"{area}.json"
        if js.exists():
            for png in plot_area(json.loads(js.read_text()), out):
                lines.append(f"![{png.stem}]({png.name})\n")
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def plot_area(data: dict[str, Any], out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: report without plots (pip install 'gfo-native[plot]')")
        return []
    area, pngs = data["area"], []
    speedups = data.get("speedups") or {}
    if speedups:
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(speedups) + 1.2))
        labels, values = list(speedups), [float(v) for v in speedups.values()]
        ax.barh(labels, values, color=["tab:green" if v >= 1 else "tab:red" for v in values])
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("speedup (ours / theirs, > 1 is faster)")
        ax.set_title(data.get("title", area))
        ax.invert_yaxis()
        pngs.append(_save(fig, out / f"{area}_speedups.png"))
    for problem, methods in (data.get("curves") or {}).items():
        fig, ax = plt.subplots(figsize=(6, 4))
        positive = True
        for method, c in methods.items():
            ax.plot(c["evals"], c["median"], label=method)
            if "q1" in c and "q3" in c:
                ax.fill_between(c["evals"], c["q1"], c["q3"], alpha=0.2)
            positive &= min(c["median"]) > 0
        if positive:
            ax.set_yscale("log")
        ax.set_xlabel("evaluations")
        ax.set_ylabel("best value (median, quartiles over seeds)")
        ax.set_title(f"{area}: {problem}")
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
        safe = "".join(ch if ch.isalnum() else "_" for ch in problem)
        pngs.append(_save(fig, out / f"{area}_{safe}.png"))
    return pngs


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
