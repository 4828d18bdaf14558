"""The fused zeroth-order kernel against its NumPy twin, thread invariance, fusion and restoration bounds."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gfo_native as gn  # noqa: E402
from gfo_native.reference import rng as ref_rng  # noqa: E402
from gfo_native.reference import zo as ref_zo  # noqa: E402
from gfo_native.torch import _zo_kernels as K  # noqa: E402

SIZES = [1, 7, 1023, 2**20 + 3]
U32 = 2.0**-24


def _params(rng, sizes, dtype=torch.float32, scale=0.1):
    return [torch.from_numpy((rng.standard_normal(n) * scale).astype(np.float32)).to(dtype) for n in sizes]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("offset", [0, 5, 64])
def test_gaussian_directions_are_rng_normals(n, offset):
    z = K.directions(31, 9, 0, n, offset)
    # float32 normals are one contract (gfo/normal32.hpp): the kernel's z, the bulk fill and the twin agree bit for bit
    assert np.array_equal(z, gn.rng.normal(31, 9, n, np.float32, offset=offset))
    assert np.array_equal(z, ref_rng.normal(31, 9, n, np.float32, offset=offset))


@pytest.mark.parametrize("n", SIZES)
def test_rademacher_directions_equal_reference(n):
    z = K.directions(3, 1 << 40, 1, n, 13)
    assert np.array_equal(z, ref_zo.directions(3, 1 << 40, 1, n, 13))
    assert set(np.unique(z)) <= {-1.0, 1.0}
    if n > 1000:
        assert abs(z.mean()) < 5 / np.sqrt(n)


def _run(params, impl, *, coefs=True, momentum=0.0, grad=False, dist=0):
    nt = len(params)
    streams = K.direction_streams([10, 11, 12], nt)
    ops = [(0, 1e-2), (0, -2e-2), (0, 1e-2), (1, 1e-2), (1, -2e-2), (2, 5e-3)]
    mom = [torch.zeros(p.shape, dtype=torch.float32) + 0.5 for p in params] if momentum else None
    grads = [torch.zeros(p.shape, dtype=torch.float32) for p in params] if grad else None
    K.zo_apply(params, seed=1234, distribution=dist, streams=streams, ops=ops,
               coefs=np.array([0.3, -1.7, 0.25], np.float32) if coefs else None,
               lrs=[0.05 * (i + 1) for i in range(nt)], weight_decays=[0.01 * i for i in range(nt)],
               momentum=momentum, momentum_buffers=mom, grad_buffers=grads, impl=impl)
    return params, mom, grads


def _agree(a, b, dtype):
    # the same z on both sides and the same float32 operations in the same order: the same bits
    assert a.dtype == b.dtype == dtype and torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("mode", ["update", "perturb", "momentum", "grad", "rademacher"])
def test_native_equals_reference(rng, dtype, mode):
    # the full size list once per dtype; the other modes on the small sizes (the reference is slow)
    p0 = _params(rng, SIZES if mode == "update" else SIZES[:3] + [70_001], dtype)
    kw = dict(coefs=mode != "perturb", momentum=0.9 if mode == "momentum" else 0.0, grad=mode == "grad",
              dist=1 if mode == "rademacher" else 0)
    a, ma, ga = _run([p.clone() for p in p0], "native", **kw)
    b, mb, gb = _run([p.clone() for p in p0], "reference", **kw)
    for x, y in zip(a, b):
        _agree(x, y, dtype)
    for bufs in ((ma, mb), (ga, gb)):
        if bufs[0] is not None:
            for x, y in zip(*bufs):
                _agree(x, y, torch.float32)
    if mode == "grad":  # gradient mode leaves theta restored up to rounding, never stepped
        for x, y in zip(a, p0):
            assert torch.allclose(x.float(), y.float(), atol=0.1)


def test_reference_materialises_rng_normal(rng):
    # the twin's z is exactly the reference Philox normal stream
    p = [torch.zeros(1000)]
    streams = K.direction_streams([3], 1)
    K.zo_apply(p, seed=5, distribution=0, streams=streams, ops=[(0, 1.0)], impl="reference")
    assert np.array_equal(p[0].numpy(), ref_rng.normal(5, int(streams[0, 0]), 1000, np.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_one_vs_two_threads_bit_identical(rng, threads, dtype):
    p0 = _params(rng, [2**20 + 3, 5, 70_000, 2**17], dtype)
    out = []
    for n in (1, 2):
        threads(n)
        out.append(_run([p.clone() for p in p0], "native", momentum=0.9)[0])
    for x, y in zip(*out):
        assert torch.equal(x, y)


DIRECT_FORMS = {  # passes of the direct paths (one slot, at most one op, a plain update): MeZO's own passes
    "perturb": dict(ops=[(0, 1e-3)]),
    "restore+update": dict(ops=[(0, 1e-3)], coefs=np.array([-0.4, 0.0], np.float32)),
    "update only": dict(ops=[], coefs=np.array([0.0, 0.7], np.float32)),
    "op, zero coefficient": dict(ops=[(1, -2e-3)], coefs=np.array([0.0, 0.0], np.float32)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("dist", [0, 1])
@pytest.mark.parametrize("form", list(DIRECT_FORMS))
def test_direct_passes_equal_reference(rng, threads, dtype, dist, form):
    p0 = _params(rng, SIZES, dtype)
    streams = K.direction_streams([40, 41], len(p0))
    kw = dict(DIRECT_FORMS[form], seed=77, distribution=dist, streams=streams, lrs=[0.05, 0.1, 0.2, 0.3],
              weight_decays=[0.0, 0.01, 0.1, 0.0])
    out = []
    for impl, nthreads in (("reference", 2), ("native", 1), ("native", 2)):
        threads(nthreads)
        ps = [p.clone() for p in p0]
        K.zo_apply(ps, impl=impl, **kw)
        out.append(ps)
    for ref_p, one, two in zip(*out):
        _agree(one, ref_p, dtype)
        assert torch.equal(one, two)
    assert not all(torch.equal(a, b) for a, b in zip(out[1], p0))


def test_split_passes_equal_one_fused_pass(rng):
    # the property that keeps ranks (and replays) bit-identical
    p0 = _params(rng, [1023, 2**16 + 1])
    streams = K.direction_streams([0, 1], 2)
    ops = [(0, 1e-3), (0, -2e-3), (0, 1e-3), (1, 1e-3), (1, -2e-3), (1, 1e-3)]
    coefs = np.array([0.7, -0.2], np.float32)
    a = [p.clone() for p in p0]
    for k, op in enumerate(ops):
        K.zo_apply(a, seed=2, distribution=0, streams=streams, ops=[op],
                   coefs=coefs if k == len(ops) - 1 else None, lrs=[0.1, 0.1])
    b = [p.clone() for p in p0]
    K.zo_apply(b, seed=2, distribution=0, streams=streams, ops=ops, coefs=coefs, lrs=[0.1, 0.1])
    for x, y in zip(a, b):
        assert torch.equal(x, y)


@pytest.mark.parametrize("dtype,u", [(torch.float32, 2.0**-24), (torch.bfloat16, 2.0**-8)])
def test_restore_within_rounding_bound(rng, dtype, u):
    eps = 1e-2
    p0 = _params(rng, [100_003], dtype, scale=0.05)
    p0[0][:10] = 0  # exact zeros and tiny values are where the relative error is largest
    p0[0][10:20] = 1e-6
    p = [x.clone() for x in p0]
    streams = K.direction_streams([7], 1)
    K.zo_apply(p, seed=9, distribution=0, streams=streams, ops=[(0, eps), (0, -2 * eps), (0, eps)])
    theta = p0[0].float().numpy().astype(np.float64)
    a = np.float32(eps) * K.directions(9, int(streams[0, 0]), 0, theta.size).astype(np.float32)
    a = a.astype(np.float64)
    bound = u * (np.abs(theta + a) + np.abs(theta - a) + np.abs(theta)) * (1 + 1e-6)
    err = np.abs(p[0].float().numpy() - theta)
    assert np.all(err <= bound)
    assert np.any(err > 0)  # the bound is not vacuous: restoration is not exact in general


def test_restore_does_not_drift(rng):
    # 400 round trips with fresh directions: unbiased rounding accumulates like sqrt(steps), not steps
    steps, eps, n = 400, 1e-2, 20_000
    p0 = _params(rng, [n], scale=0.05)
    p = [p0[0].clone()]
    streams = K.direction_streams(list(range(steps)), 1)
    trip = [(j, s) for j in range(steps) for s in (eps, -2 * eps, eps)]
    K.zo_apply(p, seed=1, distribution=0, streams=streams, ops=trip)
    theta = p0[0].numpy().astype(np.float64)
    err = p[0].numpy().astype(np.float64) - theta
    per_trip = U32 * (2 * np.abs(theta) + 2 * eps * 0.8 + np.abs(theta))  # E|a| = 0.8 eps
    rms_ratio = np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(per_trip**2))
    assert rms_ratio < 2 * np.sqrt(steps)  # a random walk, far below the linear worst case (steps)
    assert abs(err.mean()) < 5 * err.std() / np.sqrt(n)  # no systematic drift


def test_validation_errors():
    good = [torch.zeros(4)]
    streams = K.direction_streams([0], 1)
    with pytest.raises(TypeError, match=r"params\[0\]"):
        K.zo_apply([torch.zeros(4, dtype=torch.float64)], seed=0, distribution=0, streams=streams, ops=[])
    with pytest.raises(ValueError, match="dense"):  # gaps in memory (a transposed tensor is dense: accepted)
        K.zo_apply([torch.zeros(4, 8)[:, ::2]], seed=0, distribution=0, streams=streams, ops=[])
    with pytest.raises(ValueError, match="sorted"):
        K.zo_apply(good, seed=0, distribution=0, streams=K.direction_streams([0, 1], 1), ops=[(1, 1.0), (0, 1.0)])
    with pytest.raises(ValueError, match="impl"):
        K.zo_apply(good, seed=0, distribution=0, streams=streams, ops=[], impl="cuda")
    with pytest.raises(ValueError, match="counter"):
        K.direction_streams([-1], 1)
