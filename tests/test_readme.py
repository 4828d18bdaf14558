"""The README works as written: its Python blocks run in order, its CLI lines succeed.

(`pip install ...` and `gfo-native demo` themselves are run verbatim by .ci/run on a fresh clone.)
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gfo_native

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.slow
def test_python_blocks_run(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("ray")
    pytest.importorskip("matplotlib")  # the tour plots a result
    code = "import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(blocks("python"))
    (tmp_path / "readme_blocks.py").write_text(code)
    # the package this test imported (installed, or the source tree on a relative PYTHONPATH)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(gfo_native.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "readme_blocks.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]


def cli_lines():
    lines = []
    for block in blocks("bash"):
        for line in block.splitlines():
            cmd = line.split("#")[0].strip()
            if cmd.startswith("gfo-native") and not re.search(r"\b(demo|bench)\b", cmd):
                lines.append(cmd)
    return lines


@pytest.mark.parametrize("cmd", cli_lines())
def test_cli_lines(cmd):
    argv = shlex.split(cmd)
    exe = shutil.which("gfo-native")
    argv = [exe] + argv[1:] if exe else [sys.executable, "-m", "gfo_native"] + argv[1:]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
