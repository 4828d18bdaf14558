"""Assemble bench/RESULTS.md from the per-area files that the benchmarks write to bench/results/."""

from pathlib import Path

here = Path(__file__).resolve().parent
parts = sorted((here / "results").glob("*.md"))
text = "# Benchmark results\n\nEach section is one run of `bench/python/bench_<area>.py`; ratios are ours / theirs " \
       "or speedups as labelled, measured side by side in that run.\n\n" + "\n".join(p.read_text() for p in parts)
(here / "RESULTS.md").write_text(text)
print(f"wrote {here / 'RESULTS.md'} from {len(parts)} sections")
