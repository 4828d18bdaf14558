import numpy as np
import pytest

import gfo_native as gn
from gfo_native.reference import rng as ref

# Random123 known-answer vectors for philox4x32-10: (counter, key) -> output.
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_known_answers(ctr, key, expected):
    assert list(gn.rng.philox4x32_10(ctr, key)) == expected
    assert list(ref.philox4x32_10(ctr, key)) == expected


SEEDS = [(0, 0), (12345, 7), (2**64 - 1, 2**64 - 1), (0xDEADBEEFCAFEF00D, 1 << 40)]


@pytest.mark.parametrize("seed,stream", SEEDS)
def test_bits_native_equals_reference(seed, stream):
    assert np.array_equal(gn.rng.bits(seed, stream, 4099), ref.bits(seed, stream, 4099))


# Offsets whose blocks cross 2^32 (the counter's high word carries), at every alignment of the 8- and
# 32-block vectors of the hand-vectorized generator, and lengths that leave every size of ragged tail.
@pytest.mark.parametrize("offset", [4 * (2**32 - 40) + k for k in (0, 1, 3, 17, 35, 130)])
@pytest.mark.parametrize("n", [1, 29, 131, 517])
def test_bits_across_counter_carry(offset, n):
    assert np.array_equal(gn.rng.bits(0xA5A5A5A55A5A5A5A, 3, n, offset=offset), ref.bits(0xA5A5A5A55A5A5A5A, 3, n, offset=offset))
    u = gn.rng.uniform(7, 2**63 + 5, n, np.float32, offset=offset)
    assert np.array_equal(u, ref.uniform(7, 2**63 + 5, n, np.float32, offset=offset))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_bit_identical_million(dtype):
    n = 10**6 + 3
    a = gn.rng.uniform(42, 3, n, dtype)
    b = ref.uniform(42, 3, n, dtype)
    assert a.dtype == dtype and np.array_equal(a, b)
    assert a.min() > 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 2e-3 and abs(a.var() - 1 / 12) < 2e-3


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_normal_native_matches_reference(dtype, tol):
    n = 10**6 + 1
    a = gn.rng.normal(9, 1, n, dtype)
    b = ref.normal(9, 1, n, dtype)
    assert a.dtype == dtype
    # relative, with an absolute floor at cos/sin zeros where relative error is meaningless
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert abs(a.mean()) < 5e-3 and abs(a.std() - 1) < 5e-3


@pytest.mark.parametrize("kind", ["bits", "uniform", "normal"])
def test_thread_count_invariance(kind, threads):
    f = getattr(gn.rng, kind)
    threads(1)
    a = f(5, 11, 2**20 + 3)
    threads(2)
    b = f(5, 11, 2**20 + 3)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kind", ["bits", "uniform", "normal"])
@pytest.mark.parametrize("offset,n", [(0, 1), (1, 7), (3, 1023), (5, 2**16 + 1), (2**15 + 1, 2**17)])
def test_subrange_equals_slice(kind, offset, n):
    f = getattr(gn.rng, kind)
    full = f(77, 2, offset + n + 5)
    assert np.array_equal(f(77, 2, n, offset=offset), full[offset:offset + n])
    r = getattr(ref, kind)
    assert np.array_equal(r(77, 2, n, offset=offset), r(77, 2, offset + n + 5)[offset:offset + n])


def test_streams_and_seeds_differ():
    a = gn.rng.bits(1, 0, 64)
    assert not np.array_equal(a, gn.rng.bits(1, 1, 64))
    assert not np.array_equal(a, gn.rng.bits(2, 0, 64))
    assert not np.array_equal(a, gn.rng.bits(1 << 32, 0, 64))  # high key word matters


def test_zero_length():
    assert gn.rng.uniform(0, 0, 0).shape == (0,)
    assert gn.rng.normal(0, 0, 0, np.float32).shape == (0,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        gn.rng.uniform(-1, 0, 3)
    with pytest.raises(ValueError, match="n"):
        gn.rng.uniform(0, 0, -3)
    with pytest.raises(TypeError, match="dtype"):
        gn.rng.uniform(0, 0, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="seed"):
        gn.rng.bits(2**64, 0, 3)


def test_stream_id():
    assert gn.rng.stream_id(3, 1) == (3 << 8) | 1
    assert gn.rng.stream_id(3, 1) != gn.rng.stream_id(3, 2)
