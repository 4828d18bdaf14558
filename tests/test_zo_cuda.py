"""MeZO / ES on CUDA parameters: the CUDA pass (cpp/cuda/zo.cu) gives the CPU kernel's bits, so a run on the
GPU equals the same run on the CPU (marked ``cuda``: skipped without a GFO_CUDA=ON build and a GPU). The
device checks run everywhere."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gfo_native as gn  # noqa: E402
from gfo_native.torch import ES, MeZO, replay  # noqa: E402
from gfo_native.torch import _zo_kernels as K  # noqa: E402

SIZES = [1, 7, 1023, 2**20 + 3]
HAVE_GPU = gn.cuda.is_available() and torch.cuda.is_available()
gpu = pytest.mark.skipif(not HAVE_GPU, reason="needs a GFO_CUDA=ON build, a GPU and torch with CUDA")


def test_parameters_on_two_devices_are_refused():
    p = [torch.zeros(4), torch.zeros(4, device="meta")]
    with pytest.raises(ValueError, match=r"params\[1\]: on meta"):
        MeZO(p, lr=0.1)


def _params(rng, sizes, dtype, device):
    out = [torch.from_numpy((rng.standard_normal(n) * 0.1).astype(np.float32)).to(dtype) for n in sizes]
    return [p.to(device) for p in out]


def _pass(params, mode, dist):
    """A pass with every feature in use: three slots, several ops per slot, per-tensor lr and wd."""
    nt, dev = len(params), params[0].device
    streams = K.direction_streams([10, 11, 12], nt)
    ops = [(0, 1e-2), (0, -2e-2), (0, 1e-2), (1, 1e-2), (1, -2e-2), (2, 5e-3)]
    mom = [torch.full(p.shape, 0.5, device=dev) for p in params] if mode == "momentum" else None
    grads = [torch.zeros(p.shape, device=dev) for p in params] if mode == "grad" else None
    K.zo_apply(params, seed=1234, distribution=dist, streams=streams, ops=ops,
               coefs=None if mode == "perturb" else np.array([0.3, -1.7, 0.25], np.float32),
               lrs=[0.05 * (i + 1) for i in range(nt)], weight_decays=[0.01 * i for i in range(nt)],
               momentum=0.9 if mode == "momentum" else 0.0, momentum_buffers=mom, grad_buffers=grads)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return [t.cpu() for t in params + (mom or []) + (grads or [])]


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("mode", ["update", "perturb", "momentum", "grad"])
@pytest.mark.parametrize("dist", [0, 1])
def test_cuda_pass_equals_cpu_pass(rng, dtype, mode, dist):
    sizes = SIZES + [70_001]
    host = _params(rng, sizes, dtype, "cpu")
    dev = [p.cuda() for p in host]
    # a view one element into its storage: misaligned for vector loads, so the scalar path runs too
    base = _params(rng, [4099], dtype, "cpu")[0]
    host.append(base[1:])
    dev.append(base.cuda()[1:])
    for a, b in zip(_pass(host, mode, dist), _pass(dev, mode, dist)):
        assert a.dtype == b.dtype and torch.equal(a, b)


def _loss_on_cpu(params):
    # evaluated on the CPU in float64 from the parameters' bits, so both runs see the same losses
    x = torch.cat([p.detach().float().cpu().double().ravel() for p in params])
    return float(((x - 0.3) ** 2).sum() + 0.1 * torch.cos(3 * x).sum())


def _train(make, device, dtype, steps=6):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(300, 7, generator=g).to(dtype).to(device).requires_grad_(False)
    b = torch.randn(7, generator=g).to(dtype).to(device)
    opt = make([{"params": [w], "weight_decay": 1e-3}, {"params": [b], "weight_decay": 0.0}])
    losses = [opt.step(lambda: _loss_on_cpu([w, b])) for _ in range(steps)]
    return [w.cpu(), b.cpu()], losses, opt


MAKERS = {
    "mezo": lambda ps: MeZO(ps, lr=1e-3, eps=1e-3, seed=7),
    "mezo-nspsa-momentum": lambda ps: MeZO(ps, lr=1e-3, eps=1e-3, n_directions=3, momentum=0.9, seed=8),
    "mezo-one-sided-rademacher": lambda ps: MeZO(ps, lr=1e-3, eps=1e-3, two_sided=False, distribution="rademacher",
                                                 seed=9),
    "es": lambda ps: ES(ps, lr=1e-2, sigma=1e-2, population=8, seed=10),
    "es-adam": lambda ps: ES(ps, lr=1e-2, sigma=1e-2, population=8, optimizer="adam", seed=11),
}


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_training_on_gpu_equals_cpu(name, dtype):
    if name == "es-adam" and dtype == torch.bfloat16:
        pytest.skip("ES's Adam needs float32 parameters")
    on_cpu, losses_cpu, _ = _train(MAKERS[name], "cpu", dtype)
    on_gpu, losses_gpu, opt = _train(MAKERS[name], "cuda", dtype)
    assert losses_cpu == losses_gpu
    for a, b in zip(on_cpu, on_gpu):
        assert torch.equal(a, b)
    # and the log replays the GPU run bit for bit, on the GPU
    g = torch.Generator().manual_seed(0)
    w = torch.randn(300, 7, generator=g).to(dtype).cuda()
    b = torch.randn(7, generator=g).to(dtype).cuda()
    replay([w, b], opt.log)
    assert torch.equal(w.cpu(), on_gpu[0]) and torch.equal(b.cpu(), on_gpu[1])
