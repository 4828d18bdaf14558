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
    z = gn.rng.normal(7, 2**63 + 5, n, np.float32, offset=offset)  # the tiles of philox_normals32 across the carry
    assert np.array_equal(z, ref.normal(7, 2**63 + 5, n, np.float32, offset=offset))


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


# -- float32 normals: float32 Box-Muller by fixed polynomials (gfo/normal32.hpp), the same bits everywhere --

def _ulps32(z, exact):
    """|z - exact| in float32 ulps of the exact value."""
    return np.abs(z.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("case,n", list(enumerate([1, 7, 1023, 2**20 + 3, 4099, 65_537])))
def test_normal32_bit_identical_on_random_counter_ranges(case, n):
    g = np.random.default_rng(1000 + case)
    seed, stream = (int(v) for v in g.integers(0, 2**64, size=2, dtype=np.uint64))
    offset = int(g.integers(0, 2**42))
    a = gn.rng.normal(seed, stream, n, np.float32, offset=offset)
    assert a.dtype == np.float32 and np.array_equal(a, ref.normal(seed, stream, n, np.float32, offset=offset))


def _edge_words():
    """Word pairs whose u1 sits at its extremes and whose 2 pi u2 sits at or next to quadrant boundaries."""
    x1 = np.array([0, 1, 2, 3, 2**22, 2**23 - 3, 2**23 - 2, 2**23 - 1], np.int64)  # u1 = (2 x1 + 1) 2^-24
    n2 = np.array([c + d for c in range(0, 2**24 + 1, 2**21) for d in (-5, -3, -1, 1, 3, 5)], np.int64)
    n2 = n2[(n2 > 0) & (n2 < 2**24)]  # N2 = 2 x2 + 1, odd; multiples of 2^21 are octant boundaries of 2 pi u2
    a, b = np.meshgrid(x1, (n2 - 1) // 2, indexing="ij")
    low = np.random.default_rng(5).integers(0, 512, size=a.shape)  # the 9 low bits are ignored
    return ((a << 9) | low).astype(np.uint32).ravel(), ((b << 9) | low[::-1]).astype(np.uint32).ravel()


def _exact_pair(w1, w2):
    u1 = ((w1 >> 9).astype(np.float64) * 2 + 1) * 2.0**-24
    u2 = ((w2 >> 9).astype(np.float64) * 2 + 1) * 2.0**-24
    r = np.sqrt(-2 * np.log(u1))
    return r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)


def _check_box_muller32(w1, w2):
    """Native == NumPy twin bit for bit and within 4 ulps of the float64 pair; returns (native, exact) pairs."""
    z0, z1 = np.empty(w1.size, np.float32), np.empty(w1.size, np.float32)
    gn._core.rng_box_muller32(w1, w2, z0, z1)
    r0, r1 = ref.box_muller32(w1, w2)
    assert np.array_equal(z0, r0) and np.array_equal(z1, r1)
    e0, e1 = _exact_pair(w1, w2)
    assert _ulps32(z0, e0).max() <= 4 and _ulps32(z1, e1).max() <= 4
    return (z0, z1), (e0, e1)


def test_normal32_edges_bit_identical_and_accurate():
    (z0, z1), (e0, e1) = _check_box_muller32(*_edge_words())
    assert np.all(np.sign(z0) == np.sign(e0)) and np.all(np.sign(z1) == np.sign(e1))


def test_normal32_random_words_bit_identical_and_accurate():
    g = np.random.default_rng(17)
    _check_box_muller32(*g.integers(0, 2**32, size=(2, 2**20), dtype=np.uint32))


def test_normal32_native_equals_twin_on_every_uniform():
    # every float32 uniform (2^23 values) as u1 and, in another order, as u2: the bulk (AVX2) path, whose
    # steps are exact rewrites of box_muller's, against the twin bit for bit
    x = np.arange(2**23, dtype=np.uint32)
    g = np.random.default_rng(23)
    w1 = (x << 9) | g.integers(0, 512, x.size, dtype=np.uint32)
    w2 = (g.permutation(x) << 9) | g.integers(0, 512, x.size, dtype=np.uint32)
    z0, z1 = np.empty(x.size, np.float32), np.empty(x.size, np.float32)
    gn._core.rng_box_muller32(w1, w2, z0, z1)
    r0, r1 = ref.box_muller32(w1, w2)
    assert np.array_equal(z0, r0) and np.array_equal(z1, r1)


def test_normal32_parts_accurate_on_every_uniform():
    # every float32 uniform (2^23 values): log u within 1 ulp, sin and cos of 2 pi u within 2 ulps
    n = (2 * np.arange(2**23, dtype=np.int64) + 1).astype(np.int32)
    u = n.astype(np.float32) * np.float32(2.0**-24)
    log = ref.log_uniform32(u)
    assert log.dtype == np.float32 and _ulps32(log, np.log(u.astype(np.float64))).max() <= 1
    s, c = ref.sincos_turn32(n)
    a = 2 * np.pi * u.astype(np.float64)
    assert s.dtype == np.float32 and _ulps32(s, np.sin(a)).max() <= 2 and _ulps32(c, np.cos(a)).max() <= 2


def test_normal32_distribution():
    scipy_stats = pytest.importorskip("scipy.stats")
    n = 2**22
    z = gn.rng.normal(2024, 3, n, np.float32).astype(np.float64)
    se = 1 / np.sqrt(n)
    assert abs(z.mean()) < 5 * se and abs(z.var() - 1) < 5 * np.sqrt(2) * se
    assert abs(np.mean(z**3)) < 5 * np.sqrt(15) * se and abs(np.mean(z**4) - 3) < 5 * np.sqrt(96) * se
    assert scipy_stats.kstest(z, "norm").pvalue > 1e-3
    # tails: P(|z| > 4) = 6.33e-5, a binomial count
    p4 = 2 * scipy_stats.norm.sf(4)
    assert abs(np.sum(np.abs(z) > 4) - n * p4) < 5 * np.sqrt(n * p4)
    # the two halves of a pair are independent
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 5 / np.sqrt(n / 2)


@pytest.mark.parametrize("kind,dtype,words", [("bits", None, 1), ("uniform", np.float32, 1), ("uniform", np.float64, 2),
                                              ("normal", np.float32, 1), ("normal", np.float64, 2)])
def test_the_stream_ends_at_2_to_the_64_words(kind, dtype, words):
    # The last elements of a stream match the twin; a range past the end is an error, not a wrap to its start.
    last = 2**64 // words
    args = () if dtype is None else (dtype,)
    nat, tw = getattr(gn.rng, kind), getattr(ref, kind)
    for n in (1, 2, 5):
        assert np.array_equal(nat(9, 4, n, *args, offset=last - n), tw(9, 4, n, *args, offset=last - n))
    with pytest.raises(ValueError, match="offset"):
        nat(9, 4, 2, *args, offset=last - 1)
    assert nat(9, 4, 1, *args, offset=last - 1).shape == (1,)
