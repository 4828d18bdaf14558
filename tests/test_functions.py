import numpy as np
import pytest

import gfo_native as gn
from gfo_native import functions as F
from gfo_native.reference import functions as R

NAMES = sorted(F.FUNCTIONS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("n,d", [(1, 1), (7, 7), (1023, 3), (64, 1023), (5, 2**14 + 3)])
def test_native_matches_reference(name, dtype, rtol, n, d, rng):
    lo, hi = F.DOMAINS[name]
    X = rng.uniform(lo, hi, size=(n, d)).astype(dtype)
    a = F.FUNCTIONS[name](X)
    b = getattr(R, name)(X)
    assert a.dtype == dtype and a.shape == (n,)
    scale = np.maximum(np.abs(b), 1.0)  # schwefel/ackley are sums that cancel near their optima
    assert np.all(np.abs(a - b) <= rtol * scale)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("d", [1, 2, 10, 100])
def test_known_optima(name, d):
    x_star, per_dim = F.OPTIMA[name]
    X = np.full((3, d), x_star)
    for f in (F.FUNCTIONS[name], getattr(R, name)):
        np.testing.assert_allclose(f(X), per_dim * d, atol=1e-9 * d)
    # a perturbed point is worse
    Y = X + 0.1
    if name == "rosenbrock" and d == 1:
        return  # constant 0 in one dimension
    assert np.all(F.FUNCTIONS[name](Y) > per_dim * d)


def test_thread_invariance(threads):
    X = np.random.default_rng(1).uniform(-5, 5, size=(20000, 33))
    threads(1)
    a = F.rastrigin(X)
    threads(2)
    assert np.array_equal(a, F.rastrigin(X))


@pytest.mark.parametrize("name", ["rastrigin", "ackley", "griewank", "schwefel", "levy"])
def test_huge_arguments_take_the_libm_path(name, rng):
    # Arguments beyond the vectorized sin/cos reduction range (|a| > 1e6) mixed into the same tiles.
    X = rng.uniform(-5, 5, size=(64, 300))
    X[:, ::3] *= 1e7
    X[:, 1::5] *= 1e13
    a, b = F.FUNCTIONS[name](X), getattr(R, name)(X)
    assert np.all(np.abs(a - b) <= 1e-12 * np.maximum(np.abs(b), 1.0))


@pytest.mark.parametrize("name", NAMES)
def test_nan_row_only(name):
    X = np.full((3, 300), 0.5)
    X[1, 257] = np.nan  # in the second tile of the row
    y = F.FUNCTIONS[name](X)
    assert np.isnan(y[1]) and np.all(np.isfinite(y[[0, 2]]))


def test_nan_propagates_to_its_row_only():
    X = np.zeros((3, 4))
    X[1, 2] = np.nan
    y = F.rosenbrock(X)
    assert np.isnan(y[1]) and np.all(np.isfinite(y[[0, 2]]))


def test_out_argument():
    X = np.ones((4, 3))
    out = np.empty(4)
    assert F.sphere(X, out=out) is out and np.all(out == 3.0)


def test_bad_input():
    with pytest.raises(ValueError, match="X: expected a 2-D"):
        F.sphere(np.ones(3))
    with pytest.raises(TypeError, match="X: expected dtype"):
        F.sphere(np.ones((3, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        F.sphere(np.ones((3, 4))[:, ::2])
    with pytest.raises(TypeError, match="X: expected a numpy"):
        F.sphere([[1.0, 2.0]])
    with pytest.raises(ValueError, match="column"):
        F.sphere(np.ones((3, 0)))
    with pytest.raises(TypeError, match="out"):
        F.sphere(np.ones((3, 2)), out=np.empty(3, dtype=np.float32))
    with pytest.raises(ValueError, match="out"):
        F.sphere(np.ones((3, 2)), out=np.empty(4))


def test_build_info_and_threads(threads):
    info = gn.build_info()
    for key in ("version", "openmp", "max_threads", "cuda", "simd", "compiler", "build_type"):
        assert key in info
    assert isinstance(info["openmp"], bool) and isinstance(info["cuda"], bool)
    threads(1)
    assert gn.get_num_threads() == 1
    with pytest.raises(ValueError, match="n"):
        gn.set_num_threads(0)
