"""CUDA kernels vs the CPU kernels vs the NumPy reference (marked ``cuda``: skipped without a GFO_CUDA=ON
build and a GPU), plus the error paths and argument checks, which run everywhere."""

import numpy as np
import pytest

import gfo_native as gn
from gfo_native.cuda import _runtime
from gfo_native.cuda._arrays import as_device_array
from gfo_native.reference import rng as ref_rng
from gfo_native.reference import sampling as ref_sampling

from conftest import SIZES


# ---------------------------------------------------------------- everywhere: errors name the fix
class FakeDeviceArray:
    """A stand-in exporting __cuda_array_interface__ (the checks never touch the memory)."""

    def __init__(self, shape=(3, 4), typestr="<f8", strides=None, readonly=False, mask=None, ptr=4096, stream=None):
        self.__cuda_array_interface__ = dict(shape=shape, typestr=typestr, strides=strides, data=(ptr, readonly),
                                             version=3, mask=mask, stream=stream)


@pytest.mark.skipif(gn.build_info()["cuda"], reason="this build has CUDA")
def test_no_cuda_build_error_names_the_rebuild():
    assert gn.cuda.is_available() is False and gn.cuda.device_count() == 0
    calls = [gn.cuda.require, lambda: gn.cuda.check_device("cuda"), lambda: gn.cuda.rng.uniform(0, 0, 8),
             lambda: gn.functions.sphere(FakeDeviceArray()), lambda: gn.cuda.synchronize(),
             lambda: gn.cuda.sampling.uniform_box(0, 0, FakeDeviceArray((4,)), FakeDeviceArray((4,)), FakeDeviceArray()),
             lambda: gn.cuda.optim.run("adam", np.zeros((1, 8), np.uint64), 0),
             lambda: gn.cuda.pso.update(0, 1, 2, 0.7, 1.5, 1.5, *[FakeDeviceArray()] * 10),
             lambda: gn.cuda.de.trials(0, 1, 0, 0.9, FakeDeviceArray(), 0, *[FakeDeviceArray()] * 6),
             lambda: gn.cuda.ga.offspring(0, 1, 2, 3, 4, 0, 0.9, 0.5, 15, 1, 0.1, 0.1, 20, *[FakeDeviceArray()] * 6)]
    for call in calls:
        with pytest.raises(gn.cuda.CudaUnavailableError, match=r"-DGFO_CUDA=ON") as e:
            call()
        assert "build_info()['cuda'] is False" in str(e.value)


def test_no_gpu_error_names_the_driver(monkeypatch):
    class Stub:  # a CUDA build on a machine where cudaGetDeviceCount finds nothing
        @staticmethod
        def build_info():
            return {"cuda": True}

        @staticmethod
        def cuda_device_count():
            return 0

        @staticmethod
        def cuda_device_error():
            return "no CUDA-capable device is detected"

    monkeypatch.setattr(_runtime, "_core", Stub)
    assert gn.cuda.built_with_cuda() and not gn.cuda.is_available()
    with pytest.raises(gn.cuda.CudaUnavailableError, match="cudaGetDeviceCount: no CUDA-capable device is detected"):
        gn.cuda.check_device("cuda:0")
    with pytest.raises(gn.cuda.CudaUnavailableError, match="device='cpu'"):
        gn.cuda.rng.normal(1, 2, 3)


def test_check_device_values():
    assert gn.cuda.check_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device: expected 'cpu' or 'cuda'"):
        gn.cuda.check_device("tpu")


def test_cuda_array_interface_checks():
    a = as_device_array(FakeDeviceArray((3, 4), "<f4", ptr=8192, stream=1), "X", ndim=2)
    assert (a.ptr, a.shape, a.dtype, a.stream, a.code, a.size) == (8192, (3, 4), "float32", 1, 0, 12)
    # explicit C strides are fine; anything else is refused, never copied
    assert as_device_array(FakeDeviceArray((3, 4), strides=(32, 8)), "X").shape == (3, 4)
    with pytest.raises(ValueError, match="X: expected a C-contiguous"):
        as_device_array(FakeDeviceArray((3, 4), strides=(8, 24)), "X")
    with pytest.raises(TypeError, match="X: expected dtype"):
        as_device_array(FakeDeviceArray(typestr="<i8"), "X")
    with pytest.raises(ValueError, match="out: array is read-only"):
        as_device_array(FakeDeviceArray(readonly=True), "out", writeable=True)
    with pytest.raises(ValueError, match="masked"):
        as_device_array(FakeDeviceArray(mask=object()), "X")
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        as_device_array(FakeDeviceArray((5,)), "X", ndim=2)
    with pytest.raises(TypeError, match="X: expected a torch CUDA tensor or an array with __cuda_array_interface__"):
        as_device_array(np.zeros((2, 2)), "X")


def test_torch_cpu_tensor_is_refused_with_a_hint():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"X: expected a CUDA tensor, got device cpu \(move it with .cuda\(\)\)"):
        as_device_array(torch.zeros(2, 2), "X")
    assert not gn.cuda.is_device_array(torch.zeros(2)) and gn.cuda.is_device_array(FakeDeviceArray())


# ---------------------------------------------------------------- on a GPU: CUDA == CPU == reference
def _gpu_torch():
    if not gn.cuda.is_available():
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


torch_cuda = _gpu_torch()
gpu = pytest.mark.skipif(torch_cuda is None, reason="needs a GFO_CUDA=ON build, a GPU and torch with CUDA")


def _dev(a):
    return torch_cuda.from_numpy(np.ascontiguousarray(a)).cuda()


def _host(t):
    torch_cuda.cuda.synchronize()
    if t.dtype == torch_cuda.uint32:  # few torch ops support uint32: copy its bits as int32
        return t.view(torch_cuda.int32).cpu().numpy().view(np.uint32)
    return t.cpu().numpy()


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("offset", [0, 1, 3, 5])
def test_rng_bits_and_uniforms_bit_identical(n, offset):
    seed, stream = 0xDEADBEEFCAFEF00D, gn.rng.stream_id(7, 3)
    assert np.array_equal(_host(gn.cuda.rng.bits(seed, stream, n, offset=offset)), gn.rng.bits(seed, stream, n, offset))
    for dt in ("float32", "float64"):
        got = _host(gn.cuda.rng.uniform(seed, stream, n, dt, offset))
        assert got.dtype == dt and np.array_equal(got, gn.rng.uniform(seed, stream, n, dt, offset))
        if n <= 1023:
            assert np.array_equal(got, ref_rng.uniform(seed, stream, n, dt, offset))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-14), ("float32", 1e-6)])
def test_rng_normals_match_cpu(n, dtype, tol):
    for offset in (0, 1, 3):
        got = _host(gn.cuda.rng.normal(11, 4, n, dtype, offset))
        assert np.array_equal(got, gn.rng.normal(11, 4, n, dtype, offset))  # the same Box-Muller code
        if n <= 1023 and dtype == "float32":  # float32 normals: the same bits in NumPy too (gfo/normal32.hpp)
            assert np.array_equal(got, ref_rng.normal(11, 4, n, dtype, offset))
        elif n <= 1023:
            np.testing.assert_allclose(got, ref_rng.normal(11, 4, n, dtype, offset), rtol=tol, atol=tol)


@pytest.mark.cuda
@gpu
def test_rng_into_existing_out_and_stream():
    out = torch_cuda.empty(1023, dtype=torch_cuda.float64, device="cuda")
    s = torch_cuda.cuda.Stream()
    with torch_cuda.cuda.stream(s):
        gn.cuda.rng.uniform(3, 9, out=out)
    s.synchronize()
    assert np.array_equal(out.cpu().numpy(), gn.rng.uniform(3, 9, 1023))
    with pytest.raises(ValueError, match="out: expected 5 elements"):
        gn.cuda.rng.uniform(3, 9, 5, out=out)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name", sorted(gn.functions.FUNCTIONS))
@pytest.mark.parametrize("shape", [(1, 1), (7, 7), (1023, 33), (5, 1023), (2**20 + 3, 1)])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_functions_match_cpu(name, shape, dtype, rtol, rng):
    f = gn.functions.FUNCTIONS[name]
    lo, hi = gn.functions.DOMAINS[name]
    X = rng.uniform(lo, hi, size=shape).astype(dtype)
    got = f(_dev(X))
    assert got.is_cuda and got.dtype == _dev(X).dtype and tuple(got.shape) == (shape[0],)
    want = f(X)
    if name in ("ellipsoid", "ackley", "levy"):  # a few terms through CUDA's pow / exp / sin
        np.testing.assert_allclose(_host(got), want, rtol=rtol, atol=rtol * max(1.0, float(np.abs(want).max())))
    else:  # same summation order, same sin/cos (gfo/vecmath.hpp), no FMA
        assert np.array_equal(_host(got), want)


@pytest.mark.cuda
@gpu
def test_functions_nan_rows_stay_local():
    X = np.ones((7, 7))
    X[3, 2] = np.nan
    y = _host(gn.functions.rastrigin(_dev(X)))
    assert np.isnan(y[3]) and np.all(np.isfinite(np.delete(y, 3)))


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n,d", [(1, 1), (7, 7), (1023, 3), (1, 2**20 + 3)])
def test_sampling_matches_cpu_and_reference(n, d, rng):
    lo, hi = -rng.uniform(1, 5, d), rng.uniform(1, 5, d)
    center, scale = rng.uniform(-1, 1, d), rng.uniform(0.1, 2, d)
    out = torch_cuda.empty((n, d), dtype=torch_cuda.float64, device="cuda")
    gn.cuda.sampling.uniform_box(5, 17, _dev(lo), _dev(hi), out)
    cpu = np.empty((n, d))
    gn._core.sampling_uniform_box(5, 17, lo, hi, cpu)
    assert np.array_equal(_host(out), cpu)  # exact uniforms, no FMA: bit-identical
    gn.cuda.sampling.gaussian_box(5, 18, _dev(center), _dev(scale), _dev(lo), _dev(hi), out)
    gn._core.sampling_gaussian_box(5, 18, center, scale, lo, hi, cpu)
    np.testing.assert_allclose(_host(out), cpu, rtol=1e-13, atol=1e-13)
    if n * d <= 1023:
        want = np.empty((n, d))
        ref_sampling.gaussian_box(5, 18, center, scale, lo, hi, want)
        np.testing.assert_allclose(_host(out), want, rtol=1e-13, atol=1e-13)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n,d", [(1, 1), (7, 7), (1023, 3), (3, 2**20 + 3)])
@pytest.mark.parametrize("bounds", [0, 1])
def test_pso_update_bit_identical(n, d, bounds, rng):
    X = rng.uniform(-1, 1, (n, d))
    V, P = rng.uniform(-0.5, 0.5, (n, d)), rng.uniform(-1, 1, (n, d))
    improved = (rng.uniform(size=n) < 0.5).astype(np.uint8)
    nbest = rng.integers(0, n, n).astype(np.int64)
    vmax, lo, hi = np.full(d, 0.8), np.full(d, -1.0), np.full(d, 1.0)
    args = (X, V, P, improved, nbest, vmax, lo, hi)
    dev = [_dev(a) for a in args]
    Xnew_dev = torch_cuda.empty((n, d), dtype=torch_cuda.float64, device="cuda")
    gn.cuda.pso.update(9, 1, 2, 0.7, 1.49, 1.49, *dev, bounds, Xnew_dev)
    Xnew = np.empty((n, d))
    gn._core.pso_update(9, 1, 2, 0.7, 1.49, 1.49, *args, bounds, Xnew)
    assert np.array_equal(_host(Xnew_dev), Xnew)
    assert np.array_equal(_host(dev[1]), V) and np.array_equal(_host(dev[2]), P)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n,d", [(4, 1), (7, 7), (1023, 3), (4, 2**20 + 3)])
@pytest.mark.parametrize("strategy", [0, 1, 2])
def test_de_trials_bit_identical(n, d, strategy, rng):
    X = rng.uniform(-1, 1, (n, d))
    R = np.stack([rng.permutation(n)[:3] for _ in range(n)]).astype(np.int64)
    F, jrand = rng.uniform(0.4, 0.9, n), rng.integers(0, d, n).astype(np.int64)
    lo, hi = np.full(d, -1.0), np.full(d, 1.0)
    U_dev = torch_cuda.empty((n, d), dtype=torch_cuda.float64, device="cuda")
    gn.cuda.de.trials(4, 7, strategy, 0.9, _dev(X), n // 2, _dev(R), _dev(F), _dev(jrand), _dev(lo), _dev(hi), U_dev)
    U = np.empty((n, d))
    gn._core.de_trials(4, 7, strategy, 0.9, X, n // 2, R, F, jrand, lo, hi, U)
    assert np.array_equal(_host(U_dev), U)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("n,L", [(1, 1), (7, 7), (1023, 3), (3, 2**20 + 3)])
@pytest.mark.parametrize("crossover", range(6))
@pytest.mark.parametrize("mutation", range(4))
def test_ga_offspring_matches_cpu(n, L, crossover, mutation, rng):
    m = max(n, 2)
    G = rng.uniform(-1, 1, (m, L)) if mutation != 3 else rng.integers(0, 2, (m, L)).astype(np.float64)
    parents = rng.integers(0, m, 2 * ((n + 1) // 2)).astype(np.int64)
    lo, hi = np.full(L, -1.0), np.full(L, 1.0)
    span = hi - lo
    args = (5, 1, 2, 3, 4, crossover, 0.9, 0.5, 15.0, mutation, 0.2, 0.1, 20.0)
    C_dev = torch_cuda.empty((n, L), dtype=torch_cuda.float64, device="cuda")
    gn.cuda.ga.offspring(*args, _dev(G), _dev(parents), _dev(lo), _dev(hi), _dev(span), C_dev)
    C = np.empty((n, L))
    gn._core.ga_offspring(*args, G, parents, lo, hi, span, C)
    if crossover != 5 and mutation in (0, 3):  # no transcendental functions involved
        assert np.array_equal(_host(C_dev), C)
    else:
        np.testing.assert_allclose(_host(C_dev), C, rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------- fused optimizer steps
OPTIM_CASES = {
    "adam": dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
    "adamw": dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "adam_amsgrad": dict(lr=1e-2, amsgrad=True, maximize=True),
    "sgd": dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "sgd_plain": dict(lr=0.1),
    "adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.01),
    "rmsprop": dict(lr=1e-2, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01),
    "rmsprop_plain": dict(lr=1e-2),
}


def _torch_step_cuda(kind, params, grads, state, opts):
    """One gfo_native CUDA step over `params` (torch CUDA tensors), keeping torch's state layout in `state`."""
    T = torch_cuda
    n = len(params)
    if not state:
        state["step"] = [T.zeros((), dtype=T.float32) for _ in range(n)]
        zeros = lambda: [T.zeros_like(p) for p in params]  # noqa: E731
        state.update(s0=zeros(), s1=zeros(), s2=zeros(), bufs=[None] * n)
    if kind.startswith("adam"):
        b1, b2 = opts.get("betas", (0.9, 0.999))
        gn.cuda.optim.adam_(params, grads, state["s0"], state["s1"], state["s2"], state["step"], lr=opts["lr"],
                            beta1=b1, beta2=b2, eps=opts.get("eps", 1e-8), weight_decay=opts.get("weight_decay", 0.0),
                            decoupled_weight_decay=kind == "adamw", amsgrad=opts.get("amsgrad", False),
                            maximize=opts.get("maximize", False))
    elif kind.startswith("sgd"):
        gn.cuda.optim.sgd_(params, grads, state["bufs"], lr=opts["lr"], momentum=opts.get("momentum", 0.0),
                           dampening=opts.get("dampening", 0.0), weight_decay=opts.get("weight_decay", 0.0),
                           nesterov=opts.get("nesterov", False))
    elif kind == "adagrad":
        gn.cuda.optim.adagrad_(params, grads, state["s0"], state["step"], lr=opts["lr"], lr_decay=opts["lr_decay"],
                               weight_decay=opts["weight_decay"])
    else:
        gn.cuda.optim.rmsprop_(params, grads, state["s0"], state["s1"], state["s2"], state["step"], lr=opts["lr"],
                               alpha=opts.get("alpha", 0.99), momentum=opts.get("momentum", 0.0),
                               centered=opts.get("centered", False), weight_decay=opts.get("weight_decay", 0.0))


def _torch_cpu_optimizer(kind, params, opts):
    T = torch_cuda
    cls = {"adam": T.optim.Adam, "adamw": T.optim.AdamW, "sgd": T.optim.SGD, "adagrad": T.optim.Adagrad,
           "rmsprop": T.optim.RMSprop}[kind.split("_")[0]]
    return cls(params, foreach=False, **opts)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("kind", sorted(OPTIM_CASES))
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_fused_step_matches_torch_for_loop(kind, dtype, rtol, rng):
    """All SIZES in ONE launch per step, three steps, against torch.optim (foreach=False) on the CPU."""
    T = torch_cuda
    opts = OPTIM_CASES[kind]
    init = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    grads = [[rng.standard_normal(n).astype(dtype) for n in SIZES] for _ in range(3)]
    cpu_params = [T.tensor(p, requires_grad=True) for p in init]
    opt = _torch_cpu_optimizer(kind, cpu_params, opts)
    gpu_params, state = [_dev(p) for p in init], {}
    for g in grads:
        for p, gi in zip(cpu_params, g):
            p.grad = T.tensor(gi)
        opt.step()
        _torch_step_cuda(kind, gpu_params, [_dev(gi) for gi in g], state, opts)
    for p_cpu, p_gpu in zip(cpu_params, gpu_params):
        np.testing.assert_allclose(_host(p_gpu), p_cpu.detach().numpy(), rtol=rtol, atol=rtol)
    if "step" in opt.state[cpu_params[0]] and kind not in ("sgd", "sgd_nesterov", "sgd_plain"):
        assert [float(s) for s in state["step"]] == [float(opt.state[p]["step"]) for p in cpu_params]


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("kind", ["adam", "adamw", "sgd", "adagrad", "rmsprop"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_step_bit_identical_to_cpu_kernel(kind, dtype, rng):
    """CUDA == the CPU fused kernel (gfo_native.optim.functional), bit for bit, when that kernel is built."""
    functional = pytest.importorskip("gfo_native.optim.functional")
    opts = OPTIM_CASES[kind]
    init = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    grads = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    cpu = [p.copy() for p in init]
    s0, s1, s2 = ([np.zeros_like(p) for p in init] for _ in range(3))
    steps = np.zeros(len(init))
    if kind.startswith("adam"):
        b1, b2 = opts["betas"]
        functional.adam_(cpu, grads, s0, s1, None, steps, lr=opts["lr"], beta1=b1, beta2=b2, eps=opts["eps"],
                         weight_decay=opts["weight_decay"], decoupled_weight_decay=kind == "adamw")
    elif kind == "sgd":
        bufs = [None] * len(init)
        functional.sgd_(cpu, grads, bufs, lr=opts["lr"], momentum=opts["momentum"], dampening=opts["dampening"],
                        weight_decay=opts["weight_decay"])
    elif kind == "adagrad":
        functional.adagrad_(cpu, grads, s0, steps, lr=opts["lr"], lr_decay=opts["lr_decay"],
                            weight_decay=opts["weight_decay"])
    else:
        functional.rmsprop_(cpu, grads, s0, s1, s2, steps, lr=opts["lr"], alpha=opts["alpha"],
                            momentum=opts["momentum"], centered=True, weight_decay=opts["weight_decay"])
    gpu, state = [_dev(p) for p in init], {}
    _torch_step_cuda(kind, gpu, [_dev(g) for g in grads], state, opts)
    for a, b in zip(gpu, cpu):
        assert np.array_equal(_host(a), b)


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("kind", ["adam", "adamw", "sgd", "adagrad", "rmsprop"])
def test_reduced_precision_is_float32_math_rounded_once(kind, dtype, rng):
    """One step on bf16/fp16 storage == the float32 kernel on the upcast values, rounded once."""
    T = torch_cuda
    tdt = getattr(T, dtype)
    opts = dict(OPTIM_CASES[kind])
    low = [T.tensor(rng.standard_normal(n), dtype=tdt, device="cuda") for n in SIZES]
    g_low = [T.tensor(rng.standard_normal(n), dtype=tdt, device="cuda") for n in SIZES]
    s_low = {}
    f32 = [p.float() for p in low]
    s_f32 = {}
    _torch_step_cuda(kind, low, g_low, s_low, opts)
    _torch_step_cuda(kind, f32, [g.float() for g in g_low], s_f32, opts)
    for a, b in zip(low, f32):
        assert T.equal(a, b.to(tdt))


@pytest.mark.cuda
@gpu
def test_many_small_tensors_one_launch(rng):
    T = torch_cuda
    sizes = [int(s) for s in rng.integers(1, 3000, size=2000)]
    params = [T.tensor(rng.standard_normal(n), dtype=T.float32, device="cuda") for n in sizes]
    grads = [T.tensor(rng.standard_normal(n), dtype=T.float32, device="cuda") for n in sizes]
    ref = [p.clone() for p in params]
    state = {}
    _torch_step_cuda("adam", params, grads, state, dict(lr=1e-2))
    opt = T.optim.Adam(ref, lr=1e-2, foreach=False)
    for r, g in zip(ref, grads):
        r.grad = g.clone()
    opt.step()
    for a, b in zip(params, ref):
        T.testing.assert_close(a, b, rtol=2e-5, atol=2e-5)


# ---------------------------------------------------------------- torch drop-ins on CUDA parameters
DROPINS = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
           ("Adam", dict(lr=1e-2, weight_decay=0.1)), ("AdamW", dict(lr=1e-2, amsgrad=True)),
           ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1, lr_decay=0.01))]


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name,opts", DROPINS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_torch_dropin_on_cuda_equals_cpu(name, opts, dtype, rng):
    """gfo_native.torch.<Opt> on CUDA parameters: the CPU kernels' bits and the same state_dict (bf16/fp16 on
    both: float32 math rounded once per store)."""
    T = torch_cuda
    import gfo_native.torch as gt

    tdt = getattr(T, dtype)
    init = [T.tensor(rng.standard_normal(n)).to(tdt) for n in SIZES]
    grads = [[T.tensor(rng.standard_normal(n)).to(tdt) for n in SIZES] for _ in range(3)]
    cpu = [p.clone().requires_grad_() for p in init]
    gpu = [p.to("cuda").requires_grad_() for p in init]
    o_cpu, o_gpu = getattr(gt, name)(cpu, **opts), getattr(gt, name)(gpu, **opts)
    for g in grads:
        for a, b, gi in zip(cpu, gpu, g):
            a.grad, b.grad = gi.clone(), gi.to("cuda")
        o_cpu.step()
        o_gpu.step()
    for a, b in zip(cpu, gpu):
        assert T.equal(a.detach(), b.detach().cpu())
    s_cpu, s_gpu = o_cpu.state_dict(), o_gpu.state_dict()
    assert s_cpu["param_groups"] == s_gpu["param_groups"]
    for k, st in s_cpu["state"].items():
        assert st.keys() == s_gpu["state"][k].keys()
        for key, v in st.items():
            w = s_gpu["state"][k][key]
            if key == "step":
                assert w.device.type == "cpu" and T.equal(v, w)
            else:
                assert w.is_cuda and T.equal(v, w.cpu())


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_torch_dropin_reduced_precision_cuda(dtype, rng):
    T = torch_cuda
    import gfo_native.torch as gt

    p = T.tensor(rng.standard_normal(1023), dtype=getattr(T, dtype), device="cuda", requires_grad=True)
    ref = p.detach().float().clone().requires_grad_()
    g = T.tensor(rng.standard_normal(1023), dtype=getattr(T, dtype), device="cuda")
    o, o_ref = gt.Adam([p], lr=1e-2), gt.Adam([ref], lr=1e-2)
    p.grad, ref.grad = g, g.float()
    o.step()
    o_ref.step()
    assert p.dtype == getattr(T, dtype) and o.state[p]["exp_avg"].dtype == p.dtype
    assert T.equal(p.detach(), ref.detach().to(p.dtype))  # one step: float32 math, rounded once
