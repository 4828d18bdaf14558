"""Fused NumPy optimizers: native vs the NumPy reference, thread-count invariance, schedules, state."""

import math

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.optim import functional as F
from gfo_native.optim import schedules

from conftest import SIZES

DTYPES = [np.float32, np.float64]

# (name, functional call(params, grads, states, steps, impl), state names, options)
CASES = {
    "sgd": [dict(momentum=0.0), dict(momentum=0.9, dampening=0.1, weight_decay=0.01),
            dict(momentum=0.9, nesterov=True, maximize=True)],
    "adagrad": [dict(), dict(lr_decay=0.1, weight_decay=0.01, eps=1e-6, maximize=True)],
    "rmsprop": [dict(), dict(centered=True, momentum=0.9, weight_decay=0.01), dict(alpha=0.3, maximize=True)],
    "adam": [dict(), dict(amsgrad=True, weight_decay=0.01, maximize=True),
             dict(decoupled_weight_decay=True, weight_decay=0.1, beta1=0.4)],
}


def _states(name, params):
    z = lambda: [np.zeros_like(p) for p in params]  # noqa: E731
    return {"sgd": lambda: [[None] * len(params)], "adagrad": lambda: [[np.full_like(p, 0.1) for p in params]],
            "rmsprop": lambda: [z(), z(), z()], "adam": lambda: [z(), z(), z()]}[name]()


def _call(name, params, grads, states, steps, impl, opts):
    if name == "sgd":
        F.sgd_(params, grads, states[0], lr=0.01, impl=impl, **opts)
    elif name == "adagrad":
        F.adagrad_(params, grads, states[0], steps, lr=0.01, impl=impl, **opts)
    elif name == "rmsprop":
        F.rmsprop_(params, grads, *states, steps, lr=0.01, impl=impl, **opts)
    else:
        F.adam_(params, grads, *states, steps, lr=0.01, impl=impl, **opts)


def _trajectory(name, opts, sizes, dtype, impl, nsteps=4, seed=0):
    r = np.random.default_rng(seed)
    params = [r.standard_normal(s).astype(dtype) for s in sizes]
    states = _states(name, params)
    steps = np.zeros(len(params))
    for _ in range(nsteps):
        grads = [r.standard_normal(s).astype(dtype) for s in sizes]
        _call(name, params, grads, states, steps, impl, opts)
    return params, states, steps


def _flat(params, states):
    out = list(params)
    for s in states:
        out += [a for a in s if a is not None]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_native_matches_reference(name, dtype):
    # Same operation order without FMA contraction on both sides: bit-identical, at every SIMD remainder.
    for opts in CASES[name]:
        a = _trajectory(name, opts, SIZES[:3] + [5000], dtype, "native")
        b = _trajectory(name, opts, SIZES[:3] + [5000], dtype, "reference")
        for x, y in zip(_flat(*a[:2]), _flat(*b[:2])):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} {opts}")
        np.testing.assert_array_equal(a[2], b[2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_native_matches_reference_large(dtype):
    a = _trajectory("adam", CASES["adam"][1], [SIZES[-1]], dtype, "native", nsteps=2)
    b = _trajectory("adam", CASES["adam"][1], [SIZES[-1]], dtype, "reference", nsteps=2)
    for x, y in zip(_flat(*a[:2]), _flat(*b[:2])):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", list(CASES))
def test_threads_bit_identical(name, threads):
    sizes = [3, SIZES[-1], 1000, 17]  # the thread split falls inside the large tensor
    out = []
    for n in (1, 2):
        threads(n)
        out.append(_flat(*_trajectory(name, CASES[name][-1], sizes, np.float32, "native", nsteps=2)[:2]))
    for x, y in zip(*out):
        np.testing.assert_array_equal(x, y)


def test_per_tensor_steps_give_per_tensor_bias_correction():
    # A tensor skipped on earlier steps has its own step count, hence its own bias correction.
    r = np.random.default_rng(1)
    init = [r.standard_normal(10) for _ in range(2)]
    g = [r.standard_normal(10) for _ in range(2)]

    def run(steps, impl):
        p = [a.copy() for a in init]
        F.adam_(p, g, [np.zeros(10), np.zeros(10)], [np.zeros(10), np.zeros(10)], None, steps, lr=0.1, impl=impl)
        return p

    steps = np.array([0.0, 5.0])
    a = run(steps, "native")
    np.testing.assert_array_equal(steps, [1.0, 6.0])
    b = run(np.array([0.0, 5.0]), "reference")
    same_step = run(np.array([0.0, 0.0]), "native")
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], same_step[0])
    assert not np.array_equal(a[1], same_step[1])


def test_mixed_dtypes_and_empty():
    r = np.random.default_rng(2)
    params = [r.standard_normal(5).astype(np.float32), r.standard_normal(6), np.zeros(0, np.float32)]
    ref = [a.copy() for a in params]
    grads = [r.standard_normal(a.shape).astype(a.dtype) for a in params]
    st = lambda ps: ([np.zeros_like(a) for a in ps], [np.zeros_like(a) for a in ps])  # noqa: E731
    F.adam_(params, grads, *st(params), None, 1, lr=0.1)
    F.adam_(ref, grads, *st(ref), None, 1, lr=0.1, impl="reference")
    for a, b in zip(params, ref):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(params[0], grads[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm(dtype, threads):
    r = np.random.default_rng(3)
    sizes = [1, 7, 1023, SIZES[-1]]
    base = [r.standard_normal(s).astype(dtype) for s in sizes]
    norms = []
    for n in (1, 2):
        threads(n)
        g = [a.copy() for a in base]
        norms.append(F.clip_grad_norm_(g, 1.0))
    assert norms[0] == norms[1]
    expect = math.sqrt(sum(float(np.sum(a.astype(np.float64) ** 2)) for a in base))
    assert norms[0] == pytest.approx(expect, rel=1e-12)
    ref = [a.copy() for a in base]
    F.clip_grad_norm_(ref, 1.0, impl="reference")
    total = math.sqrt(sum(float(np.sum(a.astype(np.float64) ** 2)) for a in g))
    assert total == pytest.approx(1.0, rel=1e-5)
    for a, b in zip(g, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-12)
    small = [np.full(3, 0.1, dtype)]
    F.clip_grad_norm_(small, 10.0)
    np.testing.assert_array_equal(small[0], np.full(3, 0.1, dtype))


def test_clip_grad_value():
    g = [np.array([-3.0, -0.5, 0.5, 3.0, np.nan]), np.array([2.0], np.float32)]
    F.clip_grad_value_(g, 1.0)
    np.testing.assert_array_equal(g[0], [-1.0, -0.5, 0.5, 1.0, np.nan])
    np.testing.assert_array_equal(g[1], [1.0])


def test_bad_input_names_the_argument():
    p = [np.zeros(3, np.float32)]
    with pytest.raises(TypeError, match=r"grads\[0\]"):
        F.adam_(p, [np.zeros(3)], [np.zeros(3, np.float32)], [np.zeros(3, np.float32)], None, 1)
    with pytest.raises(ValueError, match="exp_avgs"):
        F.adam_(p, [np.zeros(3, np.float32)], [], [np.zeros(3, np.float32)], None, 1)
    with pytest.raises(ValueError, match=r"params\[0\]"):
        F.sgd_([np.zeros((3, 4))[:, 0]], [np.zeros(3)], None, lr=0.1)
    with pytest.raises(TypeError, match="params"):
        F.sgd_([np.zeros(3, np.int64)], [np.zeros(3, np.int64)], None, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        F.sgd_(p, [np.zeros(3, np.float32)], None, lr=-1.0)
    with pytest.raises(ValueError, match="beta1"):
        F.adam_(p, p, p, p, None, 1, beta1=1.0)
    with pytest.raises(ValueError, match="impl"):
        F.sgd_(p, p, None, lr=0.1, impl="cuda")
    with pytest.raises(ValueError, match="state_steps"):
        F.adagrad_(p, p, [np.zeros(3, np.float32)], 0)


def test_schedules():
    assert schedules.constant(0.1)(7) == 0.1
    s = schedules.step(1.0, step_size=3, gamma=0.5)
    assert [s(t) for t in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    assert schedules.exponential(2.0, 0.5)(3) == 0.25
    lin = schedules.linear(1.0, total_steps=4, start_factor=1.0, end_factor=0.0)
    assert [lin(t) for t in (0, 2, 4, 9)] == [1.0, 0.5, 0.0, 0.0]
    c = schedules.cosine(1.0, total_steps=10, eta_min=0.1)
    assert c(0) == 1.0 and c(10) == pytest.approx(0.1) and c(5) == pytest.approx(0.55)
    w = schedules.warmup_cosine(1.0, warmup_steps=4, total_steps=14, eta_min=0.0)
    assert [w(t) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert w(4) == 1.0 and w(14) == pytest.approx(0.0, abs=1e-15) and w(9) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="total_steps"):
        schedules.warmup_cosine(1.0, warmup_steps=5, total_steps=5)
    with pytest.raises(ValueError, match="step"):
        c(-1)


@pytest.mark.parametrize("cls,kw", [(gn.optim.SGD, dict(momentum=0.9)), (gn.optim.Adagrad, {}),
                                    (gn.optim.RMSprop, dict(centered=True, momentum=0.5)),
                                    (gn.optim.Adam, dict(amsgrad=True)), (gn.optim.AdamW, {})])
def test_stateful_optimizers(cls, kw):
    r = np.random.default_rng(4)
    init = [r.standard_normal(s) for s in (3, 50)]
    grads = [[r.standard_normal(s) for s in (3, 50)] for _ in range(6)]
    grads[2][0] = None  # frozen for one step
    runs = {}
    for impl in ("native", "reference"):
        params = [a.copy() for a in init]
        opt = cls(params, lr=schedules.cosine(0.05, total_steps=6), impl=impl, **kw)
        for k, g in enumerate(grads):
            opt.step(g)
            if k == 2:
                saved = opt.state_dict()
                resume_from = [a.copy() for a in params]
        runs[impl] = (params, opt)
    np.testing.assert_array_equal(runs["native"][0][0], runs["reference"][0][0])
    np.testing.assert_array_equal(runs["native"][0][1], runs["reference"][0][1])
    opt = runs["native"][1]
    assert opt.step_count == 6 and list(opt.state_steps) == [5.0, 6.0]
    # Resume from the checkpoint: continues bit-identically.
    params = resume_from
    opt2 = cls(params, lr=schedules.cosine(0.05, total_steps=6), **kw)
    opt2.load_state_dict(saved)
    for g in grads[3:]:
        opt2.step(g)
    for a, b in zip(params, runs["native"][0]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(params[1], init[1])


def test_linear_regression_converges():
    r = np.random.default_rng(5)
    X = r.standard_normal((200, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = X @ w_true
    w = np.zeros(3)
    opt = gn.optim.SGD([w], lr=schedules.cosine(0.1, total_steps=300, eta_min=0.001), momentum=0.9)
    for _ in range(300):
        opt.step([2.0 * X.T @ (X @ w - y) / len(y)])
    np.testing.assert_allclose(w, w_true, atol=1e-3)
