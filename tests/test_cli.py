import json
import subprocess
import sys

import pytest

from gfo_native.cli import main


def test_info(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"version", "openmp", "simd", "cuda"} <= set(info)


def test_demo_quick_functions(capsys):
    assert main(["demo", "--quick", "--only", "functions"]) == 0
    out = capsys.readouterr().out
    assert "rastrigin" in out and "geometric mean speedup" in out and "Summary" in out


def test_minimize_command(capsys):
    rc = main(["minimize", "gfo_native.functions:sphere", "--bounds=-5,5", "--dim", "3", "--method",
               "random_search", "--budget", "320", "--vectorized", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and "nfev: 320" in out and "evaluations/s" in out


def test_minimize_bad_spec():
    with pytest.raises(SystemExit, match="MODULE:FUNCTION"):
        main(["minimize", "nocolon", "--bounds=-1,1"])
    with pytest.raises(SystemExit, match="bounds"):
        main(["minimize", "gfo_native.functions:sphere", "--bounds", "a,b"])


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "gfo_native", "info"], capture_output=True, text=True, check=True)
    assert '"simd"' in r.stdout
