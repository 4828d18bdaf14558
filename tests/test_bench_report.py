import json

import pytest

from gfo_native import bench_report


def test_report_with_plots(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "demo.md").write_text("## demo\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    curves = {"sphere": {"ours": {"evals": [10, 20, 30], "median": [3.0, 2.0, 1.0], "q1": [2.5, 1.5, 0.5],
                                  "q3": [3.5, 2.5, 1.5]}}}
    (tmp_path / "demo.json").write_text(json.dumps({"area": "demo", "title": "Demo", "speedups": {"case": 3.0},
                                                    "curves": curves}))
    path = bench_report.write_report(tmp_path, {"demo": (0, 1.0)})
    text = path.read_text()
    assert "| demo | 0 |" in text and "demo_speedups.png" in text and "demo_sphere.png" in text
    assert (tmp_path / "demo_speedups.png").stat().st_size > 1000
    assert (tmp_path / "demo_sphere.png").stat().st_size > 1000


def test_unknown_area(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench_report, "find_scripts", lambda: {"functions": tmp_path / "bench_functions.py"})
    assert bench_report.run(tmp_path, quick=True, only=["nope"]) == 2
    assert "unknown areas" in capsys.readouterr().out
