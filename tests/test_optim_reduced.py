"""The fused drop-ins on bf16/fp16 CPU parameters: float32 math, each stored value rounded once to nearest even
(the CUDA kernels' rule), against the NumPy reference run on float32 copies and rounded (round_to_storage)."""

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gfo_native.torch")

from gfo_native.reference import optim as R  # noqa: E402

from conftest import SIZES  # noqa: E402

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
# (the vector bulk leaves out multipliers equal to 1: sign, 1 - dampening, Adam's decay; the cases take each with
# and without)
CASES = [("SGD", dict(lr=0.01)), ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.1)),
         ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, maximize=True)), ("SGD", dict(lr=0.01, momentum=0.9)),
         ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6)),
         ("Adagrad", dict(lr=0.1, maximize=True)),
         ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5, maximize=True)),
         ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
         ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
         ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
         ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.5))]
STATE_KEYS = {"SGD": ("momentum_buffer",), "Adagrad": ("sum",),
              "RMSprop": ("square_avg", "grad_avg", "momentum_buffer"),
              "Adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), "AdamW": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}


class _Twin:
    """The reference optimizer on float32 copies: one step of reference.optim, then every array it stores
    rounded to the storage type."""

    def __init__(self, name, kw, params, storage):
        self.name, self.kw, self.storage = name, dict(kw), storage
        self.P = [p.detach().float().numpy().copy() for p in params]
        z = [np.zeros_like(p) for p in self.P]
        k = self.kw
        self.steps = np.zeros(len(self.P))
        if name == "SGD":
            self.state = {"momentum_buffer": [None] * len(self.P)}
        elif name == "Adagrad":
            s = [np.full_like(p, k.get("initial_accumulator_value", 0.0)) for p in self.P]
            R.round_to_storage(s, storage)
            self.state = {"sum": s}
        elif name == "RMSprop":
            zeros = [np.zeros_like(p) for p in self.P]
            self.state = {"square_avg": z, "grad_avg": zeros if k.get("centered") else None,
                          "momentum_buffer": [np.zeros_like(p) for p in self.P] if k.get("momentum", 0) > 0 else None}
        else:
            self.state = {"exp_avg": z, "exp_avg_sq": [np.zeros_like(p) for p in self.P],
                          "max_exp_avg_sq": [np.zeros_like(p) for p in self.P] if k.get("amsgrad") else None}

    def step(self, grads):
        k, st, G = self.kw, self.state, [g.float().numpy() for g in grads]
        mx = k.get("maximize", False)
        if self.name == "SGD":
            R.sgd_(self.P, G, st["momentum_buffer"], lr=k["lr"], momentum=k.get("momentum", 0.0),
                   dampening=k.get("dampening", 0.0), weight_decay=k.get("weight_decay", 0.0),
                   nesterov=k.get("nesterov", False), maximize=mx)
        elif self.name == "Adagrad":
            R.adagrad_(self.P, G, st["sum"], self.steps, lr=k["lr"], lr_decay=k.get("lr_decay", 0.0),
                       weight_decay=k.get("weight_decay", 0.0), eps=k.get("eps", 1e-10), maximize=mx)
        elif self.name == "RMSprop":
            R.rmsprop_(self.P, G, st["square_avg"], st["grad_avg"], st["momentum_buffer"], self.steps, lr=k["lr"],
                       alpha=k.get("alpha", 0.99), eps=k.get("eps", 1e-8), weight_decay=k.get("weight_decay", 0.0),
                       momentum=k.get("momentum", 0.0), centered=k.get("centered", False), maximize=mx)
        else:
            b1, b2 = k.get("betas", (0.9, 0.999))
            adamw = self.name == "AdamW"
            wd = k.get("weight_decay", 0.01 if adamw else 0.0)
            R.adam_(self.P, G, st["exp_avg"], st["exp_avg_sq"], st["max_exp_avg_sq"], self.steps, lr=k["lr"],
                    beta1=b1, beta2=b2, eps=k.get("eps", 1e-8), weight_decay=wd, decoupled_weight_decay=adamw,
                    amsgrad=k.get("amsgrad", False), maximize=mx)
        R.round_to_storage(self.P, self.storage)
        for arrays in st.values():
            if arrays is not None:
                R.round_to_storage([a for a in arrays if a is not None], self.storage)


def _equal(t, a):
    return np.array_equal(t.detach().float().numpy(), a, equal_nan=True)


def _params(sizes, dtype, gen):
    return [torch.nn.Parameter(torch.randn(n, generator=gen).to(dtype)) for n in sizes]


@pytest.mark.parametrize("storage", list(DTYPES))
@pytest.mark.parametrize("name,kw", CASES)
def test_dropins_equal_the_reference_on_reduced_storage(name, kw, storage):
    dtype, gen = DTYPES[storage], torch.Generator().manual_seed(3)
    # the 2^20 + 3 tensor once per optimizer (its first case), the small sizes everywhere
    first = next(c for c in CASES if c[0] == name) == (name, kw)
    sizes = SIZES if first else SIZES[:3]
    params = _params(sizes, dtype, gen)
    opt, twin = getattr(gt, name)(params, **kw), _Twin(name, kw, params, storage)
    for _ in range(3):
        grads = [torch.randn(p.shape, generator=gen).to(dtype) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        twin.step(grads)
    for i, p in enumerate(params):
        assert p.dtype == dtype and _equal(p, twin.P[i]), i
        for key in STATE_KEYS[name]:
            ref = twin.state.get(key)
            if ref is None or ref[i] is None:
                continue
            st = opt.state[p][key]
            assert st.dtype == dtype and _equal(st, ref[i]), (i, key)


@pytest.mark.parametrize("storage", list(DTYPES))
def test_stores_round_as_torch_converts(storage):
    # SGD maximizing from 0 stores round(lr * g) for every value g of the type, large lr reaching the overflow to
    # infinity and small ones the subnormals: torch's float32 -> bf16/fp16 conversion (NaN payloads aside: torch's
    # own scalar and vector conversions differ there).
    dtype = DTYPES[storage]
    g = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(dtype)
    for lr in (3.7, 0.37, 1e-3, 1e-6):
        p = torch.nn.Parameter(torch.zeros_like(g))
        p.grad = g.clone()
        gt.SGD([p], lr=lr, maximize=True).step()
        want = (torch.zeros(g.shape) + torch.tensor(-lr, dtype=torch.float32) * -g.float()).to(dtype)
        got = p.detach()
        nan = want.isnan()
        assert torch.equal(got.isnan(), nan), lr
        assert torch.equal(got[~nan].view(torch.int16), want[~nan].view(torch.int16)), lr
        # every NaN, whatever its payload, is stored as the one quiet NaN (bf16 0x7FC0; fp16 0x7E00 with its sign)
        quiet = {"bfloat16": (0xFFFF, 0x7FC0), "float16": (0x7FFF, 0x7E00)}[storage]
        assert nan.sum() > 100 and bool(((got[nan].view(torch.int16).int() & quiet[0]) == quiet[1]).all()), lr


def test_threads_bit_identical_on_bf16(threads):
    gen = torch.Generator()
    runs = []
    for n in (1, 2):
        threads(n)
        gen.manual_seed(5)
        params = _params([SIZES[-1], 1023], torch.bfloat16, gen)
        opt = gt.AdamW(params, lr=1e-2, amsgrad=True)
        for _ in range(2):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen).to(p.dtype)
            opt.step()
        runs.append([p.detach().clone() for p in params])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


@pytest.mark.parametrize("storage", list(DTYPES))
def test_close_to_torch_fused_adam_and_state_dicts_load_both_ways(storage):
    # torch.optim.Adam(fused=True) also runs float32 math on bf16/fp16 storage, in another operation order:
    # after 20 steps at most one unit in the last place apart, on a few elements
    dtype, gen = DTYPES[storage], torch.Generator().manual_seed(7)
    p = torch.nn.Parameter(torch.randn(10_000, generator=gen).to(dtype))
    q = torch.nn.Parameter(p.detach().clone())
    ours, theirs = gt.Adam([p], lr=1e-2), torch.optim.Adam([q], lr=1e-2, fused=True)
    for _ in range(20):
        g = torch.randn(p.shape, generator=gen).to(dtype)
        p.grad, q.grad = g.clone(), g.clone()
        ours.step()
        theirs.step()
    ulp = q.detach().float().abs() * (2.0 ** -7 if dtype == torch.bfloat16 else 2.0 ** -10)
    diff = (p.detach().float() - q.detach().float()).abs()
    assert (diff <= ulp).all() and (diff > 0).float().mean() < 0.01
    back = torch.optim.Adam([torch.nn.Parameter(p.detach().clone())], lr=1e-2)
    back.load_state_dict(ours.state_dict())
    again = gt.Adam([torch.nn.Parameter(q.detach().clone())], lr=1e-2)
    again.load_state_dict(theirs.state_dict())
    assert again.state[again.param_groups[0]["params"][0]]["exp_avg"].dtype == dtype


@pytest.mark.parametrize("storage", list(DTYPES))
def test_clipping_reduced_gradients_matches_torch(storage):
    dtype, gen = DTYPES[storage], torch.Generator().manual_seed(9)
    grads = [torch.randn(n, generator=gen).to(dtype) * 3 for n in (1, 7, 1023)]
    a = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    b = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, q, g in zip(a, b, grads):
        p.grad, q.grad = g.clone(), g.clone()
    gt.clip_grad_value_(a, 1.3)
    torch.nn.utils.clip_grad_value_(b, 1.3)
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(a, b))
    for p, q, g in zip(a, b, grads):
        p.grad, q.grad = g.clone(), g.clone()
    n_ours, n_torch = gt.clip_grad_norm_(a, 1.0), torch.nn.utils.clip_grad_norm_(b, 1.0)
    # ours sums the squares in float64 and scales in float32; torch stacks per-tensor norms of the storage type
    assert n_ours.dtype == dtype and abs(n_ours.item() - n_torch.item()) <= 2e-2 * n_torch.item()
    for p, q in zip(a, b):
        torch.testing.assert_close(p.grad.float(), q.grad.float(), rtol=2e-2, atol=1e-3)


_F16_RUN = """
import torch, gfo_native.torch as gt
gen = torch.Generator().manual_seed(11)
g = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(torch.float16)  # every value, NaN too
out = []
for name, kw in (("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)), ("SGD", dict(lr=3.7, momentum=0.9)),
                 ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1))):
    p = torch.nn.Parameter(torch.randn(g.numel(), generator=gen).half())
    opt = getattr(gt, name)([p], **kw)
    for k in range(2):
        p.grad = g if k == 0 else torch.randn(g.numel(), generator=gen).half()
        opt.step()
    out.append(p.detach().view(torch.int16))
    out += [t.view(torch.int16) for t in opt.state[p].values() if t.dtype == torch.float16]
torch.save(out, OUT)
"""


def test_float16_portable_loop_equals_the_f16c_path(tmp_path):
    # where the CPU has F16C, float16 spans run staged through hardware conversions; GFO_NO_F16C=1 forces the
    # portable loop (bit operations), which must store the same bits, NaN included
    runs = []
    for env in ({}, {"GFO_NO_F16C": "1"}):
        out = tmp_path / f"run{len(runs)}.pt"
        code = _F16_RUN.replace("OUT", repr(str(out)))
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **env})
        runs.append(torch.load(out))
    assert len(runs[0]) == len(runs[1]) > 4
    assert all(torch.equal(a, b) for a, b in zip(*runs))
