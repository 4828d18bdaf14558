"""gfo_native.optim (NumPy) edge cases: schedules driven by NumPy integers, as a training loop's counters are."""

import numpy as np
import pytest

from gfo_native.optim import schedules as S


@pytest.mark.parametrize("make", [lambda n: S.step(0.1, n), lambda n: S.cosine(0.1, n), lambda n: S.linear(0.1, n),
                                  lambda n: S.warmup_cosine(0.1, 1, n + 1)])
def test_schedules_take_numpy_integers(make):
    # np.int64 is an integer to every NumPy user (np.arange, a counter kept in an array); only bools, floats
    # and negatives are refused
    for n in (np.int64(4), np.int32(4)):
        sched = make(n)
        assert sched(np.int64(3)) == make(4)(3)
        assert isinstance(sched(np.uint8(2)), float)
    with pytest.raises(ValueError, match="step"):
        make(4)(np.int64(-1))
    with pytest.raises(ValueError, match="step"):
        make(4)(np.float64(2.0))
    with pytest.raises(ValueError, match="step"):
        make(4)(True)
