"""Dense non-contiguous parameters (channels_last, channels_last_3d, a transposed matrix) in gfo_native.torch:
MeZO/ES run over memory order (native == NumPy twin, replay, layout recorded and enforced), the fused
torch.optim drop-ins follow torch.optim with state in the parameter's layout, and memory with gaps or overlaps
is still refused."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gfo_native.torch as gt  # noqa: E402
from gfo_native.torch import _zo_kernels as K  # noqa: E402
from gfo_native.torch._dense import flat, is_dense, same_layout  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _conv2d():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Tanh(), torch.nn.Conv2d(4, 2, 3), torch.nn.Flatten(),
                            torch.nn.Linear(8, 1))
    return m.to(memory_format=torch.channels_last), torch.randn(5, 3, 6, 6)


def _conv3d():
    torch.manual_seed(1)
    m = torch.nn.Sequential(torch.nn.Conv3d(2, 3, 2), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(3 * 8, 1))
    return m.to(memory_format=torch.channels_last_3d), torch.randn(4, 2, 3, 3, 3)


class _Transposed(torch.nn.Module):
    # a linear layer whose weight is stored transposed (dense, column-major)
    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.w = torch.nn.Parameter(torch.randn(6, 5).t())
        self.b = torch.nn.Parameter(torch.randn(5))

    def forward(self, x):
        return torch.tanh(x @ self.w.t() + self.b).sum(1, keepdim=True)


def _transposed():
    return _Transposed(), torch.randn(7, 6)


MODELS = {"channels_last": _conv2d, "channels_last_3d": _conv3d, "transposed": _transposed}


def _first_noncontiguous(m):
    p = next(p for p in m.parameters() if not p.is_contiguous())
    assert is_dense(p.shape, p.stride())
    return p


def _clone_model(m):
    return copy.deepcopy(m)


def _saved(opt):
    # as torch.save/torch.load would give it: torch.optim's load_state_dict keeps the given tensors where their
    # dtype and device fit, so two optimizers loading one state_dict object would share state
    return copy.deepcopy(opt.state_dict())


def _layouts(m):
    return [p.stride() for p in m.parameters()]


# -- the density rule -----------------------------------------------------------------------------------------

def test_is_dense_follows_the_strides():
    x = torch.zeros(2, 3, 4, 5)
    for t in (x, x.to(memory_format=torch.channels_last), x.permute(3, 1, 0, 2), torch.zeros(6, 5).t(),
              torch.zeros(2, 3, 4, 5, 6).to(memory_format=torch.channels_last_3d), torch.zeros(1, 3, 1, 1)[:, :, :, :],
              torch.zeros(0, 4)[:, ::2]):
        assert is_dense(t.shape, t.stride()), t.stride()
    for t in (torch.zeros(4, 8)[:, ::2], torch.zeros(4, 1).expand(4, 3), torch.zeros(3).expand(2, 3),
              torch.zeros(5, 5)[1:, 1:], torch.zeros(10)[::3]):
        assert not is_dense(t.shape, t.stride()), t.stride()
    assert is_dense((3, 1, 4), (4, 99, 1))  # a size-1 dimension's stride never matters


# -- MeZO / ES ------------------------------------------------------------------------------------------------

def test_one_pass_applies_z_in_memory_order():
    # the kernel's element i is the i-th element in memory: theta_mem[i] += h z[i] (float32, one rounding)
    p = torch.randn(4, 3, 5, 2).to(memory_format=torch.channels_last)
    before = flat(p).clone()
    streams = K.direction_streams([7], 1)
    K.zo_apply([p], seed=11, distribution=0, streams=streams, ops=[(0, 0.25)])
    z = K.directions(11, int(streams[0, 0]), 0, p.numel())
    assert torch.equal(flat(p), before + torch.from_numpy(np.float32(0.25) * z))
    # the same step on the contiguous tensor would put z at the logical positions instead: not the same weights
    q = before.as_strided(p.shape, p.stride()).contiguous()
    K.zo_apply([q], seed=11, distribution=0, streams=streams, ops=[(0, 0.25)])
    assert not torch.equal(q, p)


@pytest.mark.parametrize("layout", sorted(MODELS))
@pytest.mark.parametrize("make", [
    lambda ps, impl: gt.MeZO(ps, lr=0.05, eps=1e-2, momentum=0.9, n_directions=2, seed=3, impl=impl),
    lambda ps, impl: gt.MeZO(ps, lr=0.05, eps=1e-2, distribution="rademacher", two_sided=False, seed=4, impl=impl),
    lambda ps, impl: gt.ES(ps, lr=0.05, sigma=1e-2, population=3, weight_decay=0.1, seed=5, impl=impl),
    lambda ps, impl: gt.ES(ps, lr=0.01, sigma=1e-2, population=3, optimizer="adam", seed=6, impl=impl),
], ids=["mezo-momentum", "mezo-rademacher-onesided", "es", "es-adam"])
def test_zo_native_equals_reference_bit_for_bit_and_replays(layout, make):
    model, x = MODELS[layout]()
    init = _clone_model(model)
    models = {impl: _clone_model(model) for impl in ("native", "reference")}
    opts = {impl: make(list(m.parameters()), impl) for impl, m in models.items()}
    for _ in range(3):
        for impl, m in models.items():
            opts[impl].step(lambda m=m: (m(x) ** 2).mean())
    for a, b in zip(models["native"].parameters(), models["reference"].parameters()):
        assert a.stride() == b.stride() and torch.equal(a, b)
    opt, native = opts["native"], models["native"]
    for p in native.parameters():  # buffers beside a parameter index memory as it does
        st = opt.state[p]
        if "momentum_buffer" in st:
            assert st["momentum_buffer"].stride() == p.stride()
        if p.grad is not None:
            assert p.grad.stride() == p.stride()
    assert opt.log["strides"] == [None if p.is_contiguous() else list(p.stride()) for p in init.parameters()]
    gt.replay(list(init.parameters()), opt.log)
    for a, b in zip(init.parameters(), native.parameters()):
        assert torch.equal(a, b)


def test_bf16_and_frozen_channels_last_native_equals_reference():
    torch.manual_seed(3)
    ws = {impl: [torch.nn.Parameter(torch.randn(4, 3, 3, 2).to(torch.bfloat16, memory_format=torch.channels_last)),
                 torch.nn.Parameter(torch.randn(5, 4).t())] for impl in ("native", "reference")}
    ws["reference"] = [torch.nn.Parameter(w.detach().clone(memory_format=torch.preserve_format))
                       for w in ws["native"]]
    for impl, (a, b) in ws.items():
        opt = gt.MeZO([a, b], lr=0.1, eps=1e-2, momentum=0.5, seed=9, impl=impl)
        for step in range(3):
            b.requires_grad_(step != 1)  # frozen at the middle step
            opt.step(lambda: (a.float() ** 2).sum() + (b ** 3).sum())
    for a, b in zip(ws["native"], ws["reference"]):
        assert a.stride() == b.stride() and torch.equal(a, b)


def test_replay_and_resume_refuse_another_memory_layout():
    model, x = _conv2d()
    init = _clone_model(model)
    opt = gt.MeZO(model.parameters(), lr=0.05, eps=1e-2, momentum=0.9, seed=1)
    for _ in range(2):
        opt.step(lambda: (model(x) ** 2).mean())
    contiguous = _clone_model(init).to(memory_format=torch.contiguous_format)
    with pytest.raises(ValueError, match=r"params\[0\]: memory layout contiguous, but the log's run had tensor 0 "
                                         r"strides \(27, 1, 9, 3\)"):
        gt.replay(list(contiguous.parameters()), opt.log)
    with pytest.raises(ValueError, match=r"params\[0\]: memory layout .*the state_dict's run"):
        gt.MeZO(contiguous.parameters(), lr=0.05, eps=1e-2, momentum=0.9, seed=1).load_state_dict(_saved(opt))
    # the other way: a contiguous run (its log has no strides) onto a channels_last model
    c_opt = gt.MeZO(contiguous.parameters(), lr=0.05, eps=1e-2, seed=1)
    c_opt.step(lambda: (contiguous(x) ** 2).mean())
    assert "strides" not in c_opt.log
    with pytest.raises(ValueError, match=r"params\[0\]: memory layout strides \(27, 1, 9, 3\), but the log's run "
                                         "had tensor 0 contiguous"):
        gt.replay(list(_clone_model(init).parameters()), c_opt.log)
    # the same layout resumes and continues as the uninterrupted run
    resumed_model = _clone_model(model)
    resumed = gt.MeZO(resumed_model.parameters(), lr=0.05, eps=1e-2, momentum=0.9, seed=1)
    resumed.load_state_dict(_saved(opt))
    opt.step(lambda: (model(x) ** 2).mean())
    resumed.step(lambda: (resumed_model(x) ** 2).mean())
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b)
    # and the memory format may not change in the middle of a run
    model.to(memory_format=torch.contiguous_format)
    with pytest.raises(ValueError, match=r"params\[0\]: memory layout contiguous, but this optimizer's run"):
        opt.step(lambda: (model(x) ** 2).mean())


def test_zo_buffers_in_another_layout_are_refused():
    p = torch.randn(4, 3, 3, 3).to(memory_format=torch.channels_last)
    streams = K.direction_streams([0], 1)
    with pytest.raises(ValueError, match=r"momentum_buffers\[0\]: .*same memory layout"):
        K.zo_apply([p], seed=0, distribution=0, streams=streams, ops=[(0, 0.1)], coefs=[1.0], lrs=[0.1],
                   momentum=0.9, momentum_buffers=[torch.zeros(p.shape)])
    with pytest.raises(ValueError, match=r"grad_buffers\[0\]: .*same memory layout"):
        K.zo_apply([p], seed=0, distribution=0, streams=streams, ops=[(0, 0.1)], coefs=[1.0], lrs=[0.1],
                   grad_buffers=[torch.zeros(p.shape)])


NON_DENSE = {"gaps": lambda: torch.zeros(4, 8)[:, ::2], "expanded": lambda: torch.zeros(4, 1).expand(4, 3)}


@pytest.mark.parametrize("kind", sorted(NON_DENSE))
@pytest.mark.parametrize("name", ["MeZO", "ES", "Adam"])
def test_memory_with_gaps_or_overlaps_is_still_refused(kind, name):
    w = torch.nn.Parameter(NON_DENSE[kind]())
    if name == "Adam":
        w.grad = torch.zeros_like(w)
        opt = gt.Adam([w])
        with pytest.raises(ValueError, match=r"params\[0\]: expected a dense tensor"):
            opt.step()
    else:
        with pytest.raises(ValueError, match=r"params\[0\]: expected a dense tensor"):
            getattr(gt, name)([w], lr=0.1)


# -- the fused torch.optim drop-ins ---------------------------------------------------------------------------

OPTIMIZERS = [
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2)),
    ("SGD", dict(lr=1e-2, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=1e-2, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True)),
]


def _train(model, opt, x, steps):
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        (model(x) ** 2).mean().backward()
        opt.step()


def _rel(a, b):
    # relative to the tensor's scale (a one-element bias may pass close to 0)
    return float((a - b).abs().max() / b.abs().max().clamp_min(0.1))


@pytest.mark.parametrize("layout", sorted(MODELS))
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_drop_ins_follow_torch_optim_on_dense_non_contiguous_parameters(layout, name, kw):
    model, x = MODELS[layout]()
    ref = _clone_model(model)
    opt = getattr(gt, name)(model.parameters(), **kw)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw)
    _train(model, opt, x, 4)
    cached = list(opt._layouts.values())  # held, so that a rebuilt layout cannot take an old one's id
    _train(model, opt, x, 1)  # fresh gradients (set_to_none) of the parameter's layout: the cached table serves
    assert len(cached) == len(opt._layouts) and all(a is b for a, b in zip(cached, opt._layouts.values()))
    _train(ref, ref_opt, x, 5)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert p.stride() == q.stride() and _rel(p.detach(), q.detach()) <= 1e-5
        for key, t in opt.state[p].items():
            if key != "step" and t.dim() > 0:
                assert t.stride() == p.stride(), key
                assert _rel(t, ref_opt.state[q][key]) <= 1e-4, key


@pytest.mark.parametrize("name,kw", [OPTIMIZERS[0], OPTIMIZERS[3], OPTIMIZERS[5]], ids=["Adam", "SGD", "RMSprop"])
def test_state_dict_round_trips_with_torch_across_memory_formats(name, kw):
    model, x = _conv2d()
    contiguous = _clone_model(model).to(memory_format=torch.contiguous_format)
    # torch.optim on the contiguous model -> gt on the channels_last model: the state takes the parameter's layout
    t_opt = getattr(torch.optim, name)(contiguous.parameters(), foreach=False, **kw)
    _train(contiguous, t_opt, x, 2)
    cl = _clone_model(contiguous).to(memory_format=torch.channels_last)
    g_opt = getattr(gt, name)(cl.parameters(), **kw)
    g_opt.load_state_dict(_saved(t_opt))
    for p in cl.parameters():
        for key, t in g_opt.state[p].items():
            if key != "step":
                assert t.stride() == p.stride(), key
    # torch.optim keeps the saved (contiguous) layout on load and steps anyway: the trajectories agree
    t_cl = _clone_model(cl)
    t_cl_opt = getattr(torch.optim, name)(t_cl.parameters(), foreach=False, **kw)
    t_cl_opt.load_state_dict(_saved(t_opt))
    _train(cl, g_opt, x, 3)
    _train(t_cl, t_cl_opt, x, 3)
    for p, q in zip(cl.parameters(), t_cl.parameters()):
        assert _rel(p.detach(), q.detach()) <= 1e-5
    # gt (channels_last state) -> torch.optim on the channels_last model, and -> gt on the contiguous model
    t_back = _clone_model(cl)
    back = getattr(torch.optim, name)(t_back.parameters(), foreach=False, **kw)
    back.load_state_dict(_saved(g_opt))
    c_model = _clone_model(cl).to(memory_format=torch.contiguous_format)
    c_opt = getattr(gt, name)(c_model.parameters(), **kw)
    c_opt.load_state_dict(_saved(g_opt))
    for m, o in ((c_model, c_opt), (cl, g_opt), (t_back, back)):
        _train(m, o, x, 2)
    for p, q, r in zip(c_model.parameters(), cl.parameters(), t_back.parameters()):
        assert p.is_contiguous() and _rel(p.detach(), q.detach()) <= 1e-5 and _rel(r.detach(), q.detach()) <= 1e-5


@pytest.mark.parametrize("name,kw", [OPTIMIZERS[0], OPTIMIZERS[3]], ids=["Adam", "SGD"])
def test_a_gradient_or_state_in_another_layout_than_its_parameter_is_refused(name, kw):
    model, x = _conv2d()
    w = model[0].weight
    opt = getattr(gt, name)(model.parameters(), **kw)
    _train(model, opt, x, 2)
    before = [p.detach().clone() for p in model.parameters()]
    w.grad = w.grad.contiguous()  # the cached table meets a fresh gradient of another layout
    with pytest.raises(ValueError, match=r"params\[0\]\.grad: sizes \(4, 3, 3, 3\) with strides \(27, 9, 3, 1\), "
                                         r"but params\[0\] has .*strides \(27, 1, 9, 3\).*empty_like"):
        opt.step()
    assert torch.equal(model[0].weight, before[0])
    w.grad = torch.empty_like(w).copy_(w.grad)  # what the message says to do
    opt.step()
    key = "exp_avg" if name == "Adam" else "momentum_buffer"
    opt.state[w][key] = opt.state[w][key].contiguous()
    with pytest.raises(ValueError, match=r"optimizer state of params\[0\]: .*same memory layout"):
        opt.step()


def test_clip_grad_norm_of_channels_last_gradients_matches_torch():
    model, x = _conv2d()
    (model(x) ** 2).mean().backward()
    ref = _clone_model(model)
    for p, q in zip(model.parameters(), ref.parameters()):
        q.grad = p.grad.clone(memory_format=torch.preserve_format)
    total = gt.clip_grad_norm_(model.parameters(), 0.01)
    expected = torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.01, foreach=False)
    assert abs(float(total) - float(expected)) <= 1e-6 * float(expected)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert _rel(p.grad, q.grad) <= 1e-6


def test_row_guard_takes_fresh_gradients_of_the_parameters_layout_only():
    from gfo_native import _core
    from gfo_native.optim import _table as T
    w = torch.nn.Parameter(torch.zeros(4, 3, 2, 2).to(memory_format=torch.channels_last))
    w.grad = torch.zeros_like(w)
    table = T.new_table(1)
    table[:, T.NUMEL] = w.numel()
    ps = [w]
    guard = _core.TorchRowGuard(ps, [w.grad], [(table, 0)], torch.Tensor.data_ptr, torch.Tensor.is_contiguous,
                                torch.Tensor.numel, torch.Tensor.stride)
    assert guard.check(ps)
    g = torch.ones_like(w)  # the parameter's strides: taken, its address written into the table
    w.grad = g
    assert guard.check(ps) and int(table[0, T.GRAD]) == g.data_ptr()
    w.grad = torch.ones(w.shape)  # contiguous: the rebuild in Python raises the error
    assert not guard.check(ps)
    w.grad = g
    assert guard.check(ps)


# -- CUDA: the same rule (skipped without a GFO_CUDA=ON build and a GPU) --------------------------------------

def _have_gpu():
    import gfo_native as gn

    return gn.cuda.is_available() and torch.cuda.is_available()


gpu = pytest.mark.skipif(not _have_gpu(), reason="needs a GFO_CUDA=ON build, a GPU and torch with CUDA")


@pytest.mark.cuda
@gpu
@pytest.mark.parametrize("name", ["MeZO", "Adam"])
def test_channels_last_on_gpu_equals_cpu(name):
    model, x = _conv2d()
    gpu_model = _clone_model(model).cuda()
    assert not gpu_model[0].weight.is_contiguous()
    runs = []
    for m in (model, gpu_model):
        if name == "MeZO":
            opt = gt.MeZO(m.parameters(), lr=0.05, eps=1e-2, momentum=0.9, seed=2)
            for _ in range(3):  # losses on the CPU from the parameters' bits: both runs see the same
                opt.step(lambda m=m: float(sum(((p.detach().cpu().double() - 0.1) ** 2).sum() for p in m.parameters())))
        else:
            opt = gt.Adam(m.parameters(), lr=1e-2)
            torch.manual_seed(5)
            for _ in range(3):
                for p in m.parameters():  # the same gradients on both devices, in the parameter's layout
                    p.grad = torch.empty_like(p).copy_(torch.randn(p.shape))
                opt.step()
        runs.append([p.detach().cpu() for p in m.parameters()])
    for a, b in zip(*runs):
        assert torch.equal(a, b)


# -- found by the bug hunt ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["MeZO", "ES"])
def test_memory_format_may_change_until_a_tensors_first_step(name):
    # torch.optim holds parameters, not layouts: MeZO(model.parameters()) then model.to(memory_format=...)
    # before any step is the run of a channels_last model (the layout is fixed from a tensor's first step on)
    model, x = _conv2d()
    model.to(memory_format=torch.contiguous_format)
    init = _clone_model(model).to(memory_format=torch.channels_last)
    opt = getattr(gt, name)(model.parameters(), lr=0.05, seed=4)
    model.to(memory_format=torch.channels_last)
    opt.step(lambda: (model(x) ** 2).mean())
    assert opt.log["strides"][0] == list(model[0].weight.stride())
    direct = _clone_model(init)
    getattr(gt, name)(direct.parameters(), lr=0.05, seed=4).step(lambda: (direct(x) ** 2).mean())
    gt.replay(list(init.parameters()), opt.log)
    for a, b, c in zip(model.parameters(), direct.parameters(), init.parameters()):
        assert torch.equal(a, b) and torch.equal(a, c)
    # a group added later may change its format until its own first step; the others may not any more
    extra = torch.nn.Parameter(torch.randn(3, 2).t())
    opt.add_param_group({"params": [extra]})
    extra.data = extra.data.contiguous()
    opt.step(lambda: (model(x) ** 2).mean() + extra.sum())
    assert opt.log["strides"][-1] is None
    model.to(memory_format=torch.contiguous_format)
    with pytest.raises(ValueError, match=r"params\[0\]: memory layout contiguous, but this optimizer's run"):
        opt.step(lambda: (model(x) ** 2).mean())


def test_resume_after_changing_the_format_before_loading():
    # constructed on a contiguous model, converted to the checkpoint's format, then loaded: the loaded run's layout
    model, x = _conv2d()
    opt = gt.MeZO(model.parameters(), lr=0.05, momentum=0.9, seed=2)
    opt.step(lambda: (model(x) ** 2).mean())
    resumed_model = _clone_model(model).to(memory_format=torch.contiguous_format)
    resumed = gt.MeZO(resumed_model.parameters(), lr=0.05, momentum=0.9, seed=2)
    resumed_model.to(memory_format=torch.channels_last)
    resumed.load_state_dict(_saved(opt))
    for m, o in ((model, opt), (resumed_model, resumed)):
        o.step(lambda: (m(x) ** 2).mean())
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b)
    assert resumed.log == opt.log


def test_a_model_converted_mid_run_is_refused_with_the_way_out_which_works():
    model, x = _conv2d()
    ref = _clone_model(model)
    opt, ref_opt = gt.Adam(model.parameters(), lr=1e-2), torch.optim.Adam(ref.parameters(), lr=1e-2, foreach=False)
    _train(model, opt, x, 2)
    _train(ref, ref_opt, x, 2)
    for m in (model, ref):
        m.to(memory_format=torch.contiguous_format)
    with pytest.raises(ValueError, match=r"optimizer state of params\[0\].*opt\.load_state_dict\(opt\.state_dict\(\)\)"):
        _train(model, opt, x, 1)
    opt.load_state_dict(opt.state_dict())
    _train(model, opt, x, 2)
    _train(ref, ref_opt, x, 2)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert p.is_contiguous() and _rel(p.detach(), q.detach()) <= 1e-5


def test_clip_errors_name_the_parameter_as_listed():
    # parameters without a gradient used to shift the index in the message to the gradient's rank among the others
    ps = [torch.nn.Parameter(torch.randn(3)), torch.nn.Parameter(torch.randn(3, dtype=torch.complex64)),
          torch.nn.Parameter(torch.zeros(4, 8)), torch.nn.Parameter(torch.randn(3))]
    ps[1].grad = torch.randn(3, dtype=torch.complex64)
    with pytest.raises(TypeError, match=r"parameters\[1\]\.grad: expected dtype"):
        gt.clip_grad_norm_(ps, 1.0)
    ps[1].grad = None
    ps[2].grad = torch.zeros(4, 16)[:, ::2]  # gaps: refused, never copied
    ps[3].grad = torch.ones(3)
    with pytest.raises(ValueError, match=r"parameters\[2\]\.grad: expected a dense tensor"):
        gt.clip_grad_value_(ps, 1.0)


@pytest.mark.parametrize("convert", ["channels_last", "double"])
def test_adagrad_state_made_up_front_follows_a_model_converted_before_the_first_step(convert):
    # torch.optim.Adagrad creates its state in __init__; converting the model afterwards is fine for torch.optim
    model, x = _conv2d()
    model.to(memory_format=torch.contiguous_format)
    ref = _clone_model(model)
    kw = dict(lr=1e-2, initial_accumulator_value=0.1)
    opt, ref_opt = gt.Adagrad(model.parameters(), **kw), torch.optim.Adagrad(ref.parameters(), foreach=False, **kw)
    for m in (model, ref):
        if convert == "double":
            m.double()
        else:
            m.to(memory_format=torch.channels_last)
    x = x.to(next(model.parameters()).dtype)
    _train(model, opt, x, 3)
    _train(ref, ref_opt, x, 3)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert opt.state[p]["sum"].dtype == p.dtype and same_layout(opt.state[p]["sum"], p)
        assert _rel(p.detach(), q.detach()) <= 1e-5
    if convert == "double":
        return
    # after the first step the state is the run's: one set by hand in another layout is still refused
    w = model[0].weight
    opt.state[w]["sum"] = opt.state[w]["sum"].contiguous()
    with pytest.raises(ValueError, match=r"optimizer state of params\[0\]"):
        _train(model, opt, x, 1)


@pytest.mark.parametrize("name", ["MeZO", "ES"])
def test_a_refused_param_group_is_not_kept(name):
    w = torch.nn.Parameter(torch.randn(4, 3, 2, 2).to(memory_format=torch.channels_last))
    opt = getattr(gt, name)([w], lr=0.1, seed=3)
    opt.step(lambda: (w ** 2).sum())
    log = opt.log
    for group, err in (({"params": [torch.nn.Parameter(torch.randn(3))], "lr": torch.tensor(float("inf"))},
                        r"lr: expected a finite number"),
                       ({"params": [torch.nn.Parameter(torch.randn(3, dtype=torch.float64))]}, r"params\[1\]"),
                       ({"params": [torch.nn.Parameter(torch.zeros(4, 8)[:, ::2])]}, r"params\[1\]: expected a dense")):
        with pytest.raises((TypeError, ValueError), match=err):
            opt.add_param_group(group)
        assert len(opt.param_groups) == 1 and opt.log == log
    opt.step(lambda: (w ** 2).sum())  # the optimizer still works
    extra = torch.nn.Parameter(torch.randn(3, 2).t())
    opt.add_param_group({"params": [extra], "lr": torch.tensor(0.05)})
    opt.step(lambda: (w ** 2).sum() + extra.sum())
    assert opt.log["strides"] == [list(w.stride()), list(extra.stride())]


def test_a_momentum_buffer_saved_in_another_layout_resumes():
    # a checkpoint whose tensors were made contiguous on the way (as some checkpoint tools save them) resumes the
    # channels_last run exactly: the buffer is put into its parameter's layout at load, as the drop-ins do
    model, x = _conv2d()
    opt = gt.MeZO(model.parameters(), lr=0.05, momentum=0.9, seed=6)
    opt.step(lambda: (model(x) ** 2).mean())
    saved = _saved(opt)
    for st in saved["state"].values():
        st["momentum_buffer"] = st["momentum_buffer"].contiguous()
    resumed_model = _clone_model(model)
    resumed = gt.MeZO(resumed_model.parameters(), lr=0.05, momentum=0.9, seed=6)
    resumed.load_state_dict(saved)
    for m, o in ((model, opt), (resumed_model, resumed)):
        o.step(lambda: (m(x) ** 2).mean())
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b) and resumed.state[b]["momentum_buffer"].stride() == b.stride()


def test_es_adam_refuses_a_group_it_cannot_step_and_trains_a_bf16_one():
    w = torch.nn.Parameter(torch.randn(4, 3, 2, 2).to(memory_format=torch.channels_last))
    opt = gt.ES([w], lr=0.1, population=2, optimizer="adam")
    f16 = torch.nn.Parameter(torch.randn(3, 2).to(torch.float16))
    with pytest.raises(TypeError, match=r"params\[1\]"):
        opt.add_param_group({"params": [f16]})
    assert len(opt.param_groups) == 1 and len(opt._adam.param_groups) == 1
    bf16 = torch.nn.Parameter(torch.randn(3, 2).to(torch.bfloat16).t())  # trained by Adam in its own layout
    frozen = torch.nn.Parameter(torch.randn(3).to(torch.bfloat16), requires_grad=False)
    opt.add_param_group({"params": [bf16, frozen]})
    before = bf16.detach().clone()
    opt.step(lambda: (w ** 2).sum() + bf16.float().square().sum() + frozen.float().sum())
    assert bf16.grad.dtype == torch.bfloat16 and bf16.grad.stride() == bf16.stride()
    assert frozen.grad is None and not torch.equal(bf16.detach(), before)


def test_a_state_dict_saved_before_any_step_loads_into_a_converted_model():
    model, x = _conv2d()
    model.to(memory_format=torch.contiguous_format)
    saved = _saved(gt.MeZO(model.parameters(), lr=0.05, seed=5))  # no step yet: no layout is part of the run
    cl = _clone_model(model).to(memory_format=torch.channels_last)
    opt = gt.MeZO(cl.parameters(), lr=0.05, seed=5)
    opt.load_state_dict(saved)
    opt.step(lambda: (cl(x) ** 2).mean())
    direct = _clone_model(model).to(memory_format=torch.channels_last)
    gt.MeZO(direct.parameters(), lr=0.05, seed=5).step(lambda: (direct(x) ** 2).mean())
    for a, b in zip(cl.parameters(), direct.parameters()):
        assert torch.equal(a, b)


@pytest.mark.filterwarnings("ignore:grad and param do not obey the gradient layout contract")
@pytest.mark.parametrize("name", ["Adam", "SGD"])
@pytest.mark.parametrize("start", ["transposed", "contiguous"])
def test_a_parameter_whose_strides_change_in_place_is_not_stepped_in_the_old_layout(name, start):
    # p.data = p.data.t() on a square matrix keeps the address; with zero_grad(set_to_none=False) the gradient
    # object keeps its old strides too, so the cached table would pair each element with another one's gradient
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 3).t() if start == "transposed" else torch.randn(3, 3))
    x = torch.randn(3, 3)
    opt = getattr(gt, name)([w], lr=0.1)
    for _ in range(2):
        opt.zero_grad(set_to_none=False)
        ((w * x) ** 2).sum().backward()
        opt.step()
    w.data = w.data.t()
    opt.zero_grad(set_to_none=False)
    ((w * x) ** 2).sum().backward()
    before = w.detach().clone()
    with pytest.raises(ValueError, match=r"params\[0\]\.grad: .*same memory layout"):
        opt.step()
    assert torch.equal(w.detach(), before)


@pytest.mark.parametrize("layout", sorted(MODELS))
def test_kept_gradients_of_an_unchanged_layout_keep_the_cached_table(layout):
    # the guard's parameter-layout check (kept .grad objects) passes when nothing changed: no rebuild per step
    model, x = MODELS[layout]()
    opt = gt.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        opt.zero_grad(set_to_none=False)
        (model(x) ** 2).mean().backward()
        opt.step()
    cached = list(opt._layouts.values())
    opt.zero_grad(set_to_none=False)
    (model(x) ** 2).mean().backward()
    opt.step()
    assert all(a is b and a.guard.ok for a, b in zip(cached, opt._layouts.values()))
