import numpy as np
import pytest

import gfo_native as gn

# Sizes that hit every SIMD remainder and the parallel split.
SIZES = [1, 7, 1023, 2**20 + 3]


@pytest.fixture
def threads():
    """Run a block with a given thread count and restore the previous one."""
    before = gn.get_num_threads()

    class _Threads:
        def __call__(self, n):
            gn.set_num_threads(n)

    yield _Threads()
    gn.set_num_threads(before)


@pytest.fixture
def rng():
    # Test inputs only; library code never uses NumPy's generators.
    return np.random.default_rng(12345)


@pytest.fixture
def one_torch_thread():
    """torch at one intra-op thread for the test, then restored: tiny models only gain scheduling noise from
    more, and identical losses need identical reduction orders."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
