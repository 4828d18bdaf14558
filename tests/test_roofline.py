import math

import numpy as np
import pytest

import gfo_native as gn
from gfo_native import roofline as R

from conftest import SIZES


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nthreads", [1, 2])
def test_kernels_match_the_twin(n, dtype, nthreads, rng, threads):
    threads(nthreads)
    src = rng.standard_normal(n).astype(dtype)
    outs = []
    for impl in ("native", "reference"):
        dst = np.full(n, np.nan, dtype)
        R.stream_copy(src, dst, impl=impl)
        a = src.copy()
        R.stream_scale(a, 0.7, impl=impl)
        outs.append((dst, a))
    (c_native, s_native), (c_ref, s_ref) = outs
    assert np.array_equal(c_native, src) and np.array_equal(c_ref, src)
    assert np.array_equal(s_native, s_ref)  # one rounding of s * a in the array's dtype: the same bits
    assert not np.array_equal(s_native, src)


def test_bad_arrays_are_named():
    a32, a64 = np.zeros(8, np.float32), np.zeros(8)
    with pytest.raises(TypeError, match="src"):
        R.stream_copy(np.zeros(8, np.int64), a64)
    with pytest.raises(TypeError, match="dst"):
        R.stream_copy(a64, a32)
    with pytest.raises(ValueError, match="dst"):
        R.stream_copy(a64, np.zeros(9))
    with pytest.raises(ValueError, match="src"):
        R.stream_copy(np.zeros(16)[::2], a64)
    frozen = np.zeros(8)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="a"):
        R.stream_scale(frozen, 2.0)
    with pytest.raises(TypeError, match="a"):
        R.stream_scale([1.0, 2.0], 2.0)
    with pytest.raises(ValueError, match="impl"):
        R.stream_scale(a64, 2.0, impl="fast")
    with pytest.raises(TypeError, match="s"):
        R.stream_scale(a64, "2")
    with pytest.raises(ValueError, match="s"):
        R.stream_scale(a64, float("nan"))


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_copy_between_shapes_of_one_size(impl, rng):
    src = rng.standard_normal((3, 5))
    dst = np.zeros(15)
    R.stream_copy(src, dst, impl=impl)
    assert np.array_equal(dst, src.ravel())


def test_memory_bandwidth_measures_and_restores_threads(threads):
    threads(2)
    bw = R.memory_bandwidth(nbytes=8 << 20, repeat=3, threads=1)
    assert bw.threads == 1 and gn.get_num_threads() == 2
    for v in (bw.copy, bw.inplace):
        assert math.isfinite(v) and v > 0
    assert bw.best == max(bw.copy, bw.inplace)
    assert R.memory_bandwidth(nbytes=1 << 20, repeat=1, statistic="min").threads == 2
    for kw, name in ((dict(nbytes=0), "nbytes"), (dict(nbytes=4), "nbytes"), (dict(repeat=0), "repeat"),
                     (dict(threads=0), "threads"), (dict(statistic="mean"), "statistic")):
        with pytest.raises(ValueError, match=name):
            R.memory_bandwidth(**kw)
