import math
import pickle

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.space import Categorical, Int, LogUniform, Space, Uniform


def mixed():
    return Space({"lr": LogUniform(1e-4, 1e-1), "alpha": Uniform(-2.0, 3.0), "depth": Int(2, 8),
                  "width": Int(1, 1000, log=True), "kernel": Categorical(["rbf", "linear", "poly"]),
                  "order": Categorical([1, 2, 3, 4], encoding="ordinal")})


def test_dimensions_and_bounds():
    s = mixed()
    assert s.dim == 1 + 1 + 1 + 1 + 3 + 1 and len(s) == 6
    assert s.bounds.shape == (s.dim, 2) and np.all(s.bounds[:, 0] == 0) and np.all(s.bounds[:, 1] == 1)
    assert s.slices["kernel"] == slice(4, 7)


def test_decode_types_ranges_and_round_trip(rng):
    s = mixed()
    U = rng.uniform(size=(500, s.dim))
    for p in s.decode(U):
        assert 1e-4 <= p["lr"] <= 1e-1 and -2.0 <= p["alpha"] <= 3.0
        assert isinstance(p["depth"], int) and 2 <= p["depth"] <= 8
        assert isinstance(p["width"], int) and 1 <= p["width"] <= 1000
        assert p["kernel"] in ("rbf", "linear", "poly") and p["order"] in (1, 2, 3, 4)
        q = s.decode(s.encode(p))[0]
        assert q["depth"] == p["depth"] and q["width"] == p["width"]
        assert q["kernel"] == p["kernel"] and q["order"] == p["order"]
        assert math.isclose(q["lr"], p["lr"], rel_tol=1e-12) and math.isclose(q["alpha"], p["alpha"], abs_tol=1e-12)


def test_edges_of_the_cube():
    s = mixed()
    lo, hi = s.decode(np.zeros(s.dim))[0], s.decode(np.ones(s.dim))[0]
    assert lo["depth"] == 2 and hi["depth"] == 8 and lo["width"] == 1 and hi["width"] == 1000
    assert lo["order"] == 1 and hi["order"] == 4
    assert lo["lr"] == pytest.approx(1e-4) and hi["lr"] == pytest.approx(1e-1)


def test_int_bins_equal_width_and_log_bins():
    d = Int(0, 4)
    u = (np.arange(10000) + 0.5) / 10000
    counts = np.bincount(d.decode(u[:, None]), minlength=5)
    assert np.all(counts == 2000)
    lg = Int(1, 100, log=True)
    vals = np.array(lg.decode(u[:, None]))
    # under log bins, 1..9 take about half the cube (log 10 / log 101)
    assert abs(np.mean(vals < 10) - math.log(10) / math.log(101)) < 1e-3


def test_onehot_argmax_and_ordinal_bins():
    c = Categorical(["a", "b", "c"])
    assert c.decode(np.array([[0.1, 0.9, 0.2], [0.5, 0.5, 0.1], [0.0, 0.0, 0.3]])) == ["b", "a", "c"]
    assert np.array_equal(c.encode("c"), [0.0, 0.0, 1.0])
    o = Categorical(["x", "y"], encoding="ordinal")
    assert o.size == 1 and o.decode(np.array([[0.49], [0.51], [1.0]])) == ["x", "y", "y"]


def test_bad_spaces():
    with pytest.raises(ValueError, match="high"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="low"):
        LogUniform(0.0, 1.0)
    with pytest.raises(TypeError, match="low"):
        Int(0.5, 3)
    with pytest.raises(ValueError, match="low"):
        Int(0, 10, log=True)
    with pytest.raises(ValueError, match="choices"):
        Categorical([])
    with pytest.raises(ValueError, match="encoding"):
        Categorical(["a"], encoding="binary")
    with pytest.raises(TypeError, match="params"):
        Space({"x": (0, 1)})
    with pytest.raises(ValueError, match="value"):
        mixed().encode({**mixed().decode(np.zeros(8))[0], "depth": 99})
    with pytest.raises(ValueError, match="U"):
        mixed().decode(np.zeros((2, 3)))


@pytest.mark.parametrize("method", sorted(gn.OPTIMIZERS))
def test_every_optimizer_accepts_a_space(method):
    s = mixed()
    opt = gn.OPTIMIZERS[method](s, seed=1, popsize=4)
    assert opt.dim == s.dim and opt.space is s
    for _ in range(3):
        X = opt.ask()
        assert np.all(X >= 0) and np.all(X <= 1)
        dicts = opt.ask_dicts()
        assert dicts == s.decode(X)
        opt.tell(dicts, [math.log(p["lr"]) + p["depth"] for p in dicts])
    assert set(opt.best_params) == set(s.names)
    again = pickle.loads(pickle.dumps(opt))
    assert again.best_params == opt.best_params and again.space == s


def test_tell_rejects_foreign_dicts_and_ask_dicts_needs_space():
    opt = gn.RandomSearch(mixed(), seed=0, popsize=2)
    d = opt.ask_dicts()
    d[0] = dict(d[0], depth=9 if d[0]["depth"] != 9 else 2)
    with pytest.raises(ValueError, match="X"):
        opt.tell(d, [0.0, 1.0])
    with pytest.raises(RuntimeError, match="Space"):
        gn.RandomSearch([(0, 1)]).ask_dicts()


def test_minimize_calls_fun_with_dicts():
    s = Space({"x": Uniform(-2, 2), "k": Categorical(["a", "b"]), "n": Int(0, 5)})
    seen = []

    def f(p):
        seen.append(p)
        return (p["x"] - 1) ** 2 + (p["k"] != "b") + abs(p["n"] - 3)

    res = gn.minimize(f, s, method="random_search", budget=256, seed=0)
    assert all(isinstance(p, dict) for p in seen) and len(seen) == 256
    assert res.x["k"] == "b" and res.x["n"] == 3 and abs(res.x["x"] - 1) < 0.3
    assert res.x_unit.shape == (s.dim,) and s.decode(res.x_unit)[0] == res.x
    vec = gn.minimize(lambda ps: [f(p) for p in ps], s, method="random_search", budget=64, seed=0, vectorized=True)
    assert vec.fun == pytest.approx(min(f(p) for p in s.decode(np.stack([vec.x_unit]))))


def test_x0_as_dict():
    s = Space({"x": Uniform(0, 10), "n": Int(1, 3)})
    opt = gn.RandomSearch(s, distribution="gaussian", x0={"x": 5.0, "n": 2})
    assert np.allclose(opt.x0, [0.5, 0.5])


def test_snap_moves_discrete_coordinates_to_bin_centres(rng):
    s = mixed()
    U = rng.uniform(size=(200, s.dim))
    S = s.snap(U)
    assert s.decode(S) == s.decode(U)
    np.testing.assert_allclose(S, s.encode(s.decode(U)), atol=1e-12)
    cont = [s.slices["lr"].start, s.slices["alpha"].start]
    assert np.array_equal(S[:, cont], U[:, cont]) and s.discrete
    assert not Space({"x": Uniform(0, 1)}).discrete


def test_bad_x0_dict_is_named():
    s = Space({"x": Uniform(0, 10), "n": Int(1, 3)})
    with pytest.raises(ValueError, match="x0"):
        gn.RandomSearch(s, distribution="gaussian", x0={"x": 5.0})  # a missing key
    with pytest.raises(ValueError, match="x0"):
        gn.RandomSearch(s, distribution="gaussian", x0={"x": 50.0, "n": 2})  # outside its range
