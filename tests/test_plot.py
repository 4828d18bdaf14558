import pytest

import gfo_native as gn

plt = pytest.importorskip("matplotlib.pyplot")


def test_result_plot_and_compare(tmp_path):
    a = gn.minimize(gn.functions.sphere, [(-5, 5)] * 3, method="random_search", budget=320, vectorized=True, seed=1)
    b = gn.minimize(gn.functions.sphere, [(-5, 5)] * 3, method="random_search", budget=320, vectorized=True, seed=2)
    ax = a.plot()
    assert ax.get_xlabel() == "evaluations" and len(ax.lines) == 1
    path = tmp_path / "cmp.png"
    ax = gn.plot.compare({"seed 1": a, "seed 2": b}, title="sphere", path=str(path))
    assert len(ax.lines) == 2 and path.stat().st_size > 1000
    plt.close("all")
