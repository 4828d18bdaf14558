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


def test_demo_unknown_section_is_an_error_not_an_empty_run(capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "--only", "zo", "nosuch"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuch'" in err and "zo" in err
    from gfo_native.demo import run_demo

    with pytest.raises(ValueError, match=r"only: unknown demo sections \['nosuch'\]"):
        run_demo(quick=True, only=["nosuch"])


@pytest.mark.parametrize("args, message", [
    (["--dim", "0"], "--dim: expected a positive integer, got 0"),
    (["--dim", "-2"], "--dim: expected a positive integer, got -2"),
    (["--dim", "2", "--budget", "-5"], "--budget: expected a positive integer, got -5"),
    (["--dim", "2", "--method", "nosuch"], "--method: invalid choice: 'nosuch'"),
])
def test_minimize_bad_arguments_are_usage_errors(capsys, args, message):
    with pytest.raises(SystemExit) as e:
        main(["minimize", "gfo_native.functions:sphere", "--bounds=-5,5", "--quiet"] + args)
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("options, message", [("{bad", "--options: not valid JSON"),
                                              ("[1]", "--options: expected a JSON object")])
def test_minimize_bad_options(options, message):
    with pytest.raises(SystemExit, match=message):
        main(["minimize", "gfo_native.functions:sphere", "--bounds=-5,5", "--dim", "2", "--quiet",
              "--options", options])


def test_help_lists_demo_sections_and_methods(capsys):
    for argv in (["demo", "--help"], ["minimize", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    assert "zo" in out and "cmaes" in out
