"""gfo_native.torch drop-ins against torch.optim's for-loop implementations (modelled on torch's optimizer tests)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gfo_native.torch")

from conftest import SIZES  # noqa: E402

PAIRS = {
    "SGD": [dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.1),
            dict(lr=0.01, momentum=0.9, nesterov=True, maximize=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2,
                                   eps=1e-6, maximize=True)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9, weight_decay=0.1),
                dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5, maximize=True)],
    "Adam": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.1), dict(lr=0.01, betas=(0.3, 0.9), maximize=True),
             dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(lr=0.01), dict(lr=0.01, amsgrad=True, weight_decay=0.5, maximize=True)],
}
CASES = [(name, kw) for name, kws in PAIRS.items() for kw in kws]
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}
SHAPES = [(1,), (7,), (31, 33), (0,)]  # 31*33 = 1023 elements; a zero-size parameter


def rel_err(a, b):
    """Largest difference relative to the tensor's scale (torch's tests use the same kind of bound)."""
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def _grads(k, shapes, dtype, gen):
    return [torch.randn(s, dtype=dtype, generator=gen) for s in shapes]


def _run_pair(name, kw, dtype, shapes=SHAPES, nsteps=10):
    gen = torch.Generator().manual_seed(0)
    init = [torch.randn(s, dtype=dtype, generator=gen) for s in shapes]
    frozen = torch.randn(5, dtype=dtype, generator=gen)
    ours = [torch.nn.Parameter(t.clone()) for t in init] + [torch.nn.Parameter(frozen.clone(), requires_grad=False)]
    theirs = [torch.nn.Parameter(t.clone()) for t in init] + [torch.nn.Parameter(frozen.clone(), requires_grad=False)]
    o_ours = getattr(gt, name)(ours, **kw)
    o_theirs = getattr(torch.optim, name)(theirs, foreach=False, **kw)
    for k in range(nsteps):
        gs = _grads(k, shapes, dtype, gen)
        for i, g in enumerate(gs):
            skip = k == 4 and i in (0, 2)  # a step where some grads are None
            ours[i].grad = None if skip else g.clone()
            theirs[i].grad = None if skip else g.clone()
        o_ours.step()
        o_theirs.step()
    return ours, theirs, o_ours, o_theirs


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,kw", CASES)
def test_matches_torch_for_loop(name, kw, dtype):
    ours, theirs, o_ours, o_theirs = _run_pair(name, kw, dtype)
    for a, b in zip(ours, theirs):
        assert rel_err(a.detach(), b.detach()) <= TOL[dtype], (name, kw)
    assert torch.equal(ours[-1], theirs[-1])  # the frozen parameter is untouched
    assert not torch.equal(ours[0], _run_pair(name, kw, dtype, nsteps=0)[0][0])
    for p_o, p_t in zip(ours, theirs):
        s_o, s_t = o_ours.state[p_o], o_theirs.state[p_t]
        assert set(s_o) == set(s_t)
        for key in s_t:
            if isinstance(s_t[key], torch.Tensor):
                assert s_o[key].dtype == s_t[key].dtype
                assert rel_err(s_o[key], s_t[key]) <= TOL[dtype], key


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad"])
def test_large_tensor_matches_torch(name):
    kw = dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    ours, theirs, _, _ = _run_pair(name, kw, torch.float32, shapes=[(SIZES[-1],)], nsteps=2)
    assert rel_err(ours[0].detach(), theirs[0].detach()) <= 1e-6


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.01, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)), ("Adagrad", dict(lr=0.1)),
                                     ("AdamW", dict(lr=0.01))])
def test_state_dict_round_trips(name, kw):
    gen = torch.Generator().manual_seed(1)
    init = [torch.randn(s, generator=gen, dtype=torch.float64) for s in [(4,), (3, 5)]]
    grads = [[torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in init] for _ in range(6)]

    def drive(opt, params, gs):
        for g_list in gs:
            for p, g in zip(params, g_list):
                p.grad = g.clone()
            opt.step()

    # torch -> ours: three steps in torch, three in ours, equals six in torch.
    ref = [torch.nn.Parameter(t.clone()) for t in init]
    o_ref = getattr(torch.optim, name)(ref, foreach=False, **kw)
    drive(o_ref, ref, grads)
    a = [torch.nn.Parameter(t.clone()) for t in init]
    o_a = getattr(torch.optim, name)(a, foreach=False, **kw)
    drive(o_a, a, grads[:3])
    b = [torch.nn.Parameter(t.detach().clone()) for t in a]
    o_b = getattr(gt, name)(b, **kw)
    o_b.load_state_dict(o_a.state_dict())
    drive(o_b, b, grads[3:])
    for x, y in zip(b, ref):
        assert rel_err(x.detach(), y.detach()) <= 1e-12
    # ours -> torch
    c = [torch.nn.Parameter(t.clone()) for t in init]
    o_c = getattr(gt, name)(c, **kw)
    drive(o_c, c, grads[:3])
    d = [torch.nn.Parameter(t.detach().clone()) for t in c]
    o_d = getattr(torch.optim, name)(d, foreach=False, **kw)
    sd = o_c.state_dict()
    o_d.load_state_dict(sd)
    drive(o_d, d, grads[3:])
    for x, y in zip(d, ref):
        assert rel_err(x.detach(), y.detach()) <= 1e-12
    assert set(sd["state"][0]) == set(o_ref.state_dict()["state"][0])


def test_threads_bit_identical(threads):
    out = []
    for n in (1, 2):
        threads(n)
        ours, _, _, _ = _run_pair("Adam", dict(lr=0.01, amsgrad=True), torch.float32,
                                  shapes=[(3,), (SIZES[-1],), (1000,)], nsteps=2)
        out.append([p.detach().clone() for p in ours])
    for a, b in zip(*out):
        assert torch.equal(a, b)


def test_param_groups_closure_and_scheduler():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    ref.load_state_dict(model.state_dict())
    x, y = torch.randn(32, 4), torch.randn(32, 1)

    def make(mod, cls, **extra):
        return cls([{"params": mod[0].parameters(), "lr": 0.05}, {"params": mod[2].parameters()}], lr=0.01,
                   weight_decay=0.01, **extra)

    opts = [make(model, gt.AdamW), make(ref, torch.optim.AdamW, foreach=False)]
    scheds = [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5) for o in opts]
    losses = []
    for _ in range(5):
        for mod, o, s in zip((model, ref), opts, scheds):
            def closure(mod=mod, o=o):
                o.zero_grad()
                loss = torch.nn.functional.mse_loss(mod(x), y)
                loss.backward()
                return loss
            losses.append(o.step(closure).item())
            s.step()
    assert opts[0].param_groups[0]["lr"] == opts[1].param_groups[0]["lr"] != 0.05
    for a, b in zip(model.parameters(), ref.parameters()):
        assert rel_err(a.detach(), b.detach()) <= 1e-6
    assert losses[-1] < losses[0]


def test_cache_follows_new_grads_and_param_data():
    p = torch.nn.Parameter(torch.zeros(4))
    q = torch.nn.Parameter(torch.zeros(4))
    opt = gt.SGD([p], lr=1.0)
    ref = torch.optim.SGD([q], lr=1.0, foreach=False)
    for k in range(3):
        g = torch.full((4,), float(k + 1))
        p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
    p.data = torch.ones(4)  # new memory behind the same Parameter
    q.data = torch.ones(4)
    opt.step()
    ref.step()
    assert torch.equal(p, q)
    p.grad.mul_(2)  # in-place change of the same grad tensor is seen
    q.grad.mul_(2)
    opt.step()
    ref.step()
    assert torch.equal(p, q)


def test_clear_errors():
    p = torch.nn.Parameter(torch.zeros(4, 8)[:, ::2])  # gaps in memory (a transposed one is dense: accepted)
    p.grad = torch.zeros(4, 8)[:, ::2]
    with pytest.raises(ValueError, match="dense"):
        gt.Adam([p]).step()
    h = torch.nn.Parameter(torch.zeros(4, dtype=torch.complex64))
    h.grad = torch.zeros(4, dtype=torch.complex64)
    with pytest.raises(TypeError, match="complex64"):
        gt.SGD([h], lr=0.1).step()
    e = torch.nn.Embedding(10, 3, sparse=True)
    e(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(TypeError, match="sparse"):
        gt.SGD(e.parameters(), lr=0.1).step()
    with pytest.raises(ValueError, match="differentiable"):
        gt.Adam([torch.nn.Parameter(torch.zeros(2))], differentiable=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        gt.Adam([torch.nn.Parameter(torch.zeros(2))], lr=-1.0)


def test_clip_grad_norm_and_value_match_torch():
    gen = torch.Generator().manual_seed(2)
    ps = [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=torch.float64)) for s in (3, 1023, 7)]
    qs = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    for p, q in zip(ps, qs):
        p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64) * 5
        q.grad = p.grad.clone()
    n1 = gt.clip_grad_norm_(ps, 1.0)
    n2 = torch.nn.utils.clip_grad_norm_(qs, 1.0, foreach=False)
    assert abs(n1.item() - n2.item()) <= 1e-12 * n2.item()
    for p, q in zip(ps, qs):
        assert rel_err(p.grad, q.grad) <= 1e-12
    gt.clip_grad_value_(ps, 0.01)
    torch.nn.utils.clip_grad_value_(qs, 0.01, foreach=False)
    for p, q in zip(ps, qs):
        assert torch.equal(p.grad, q.grad)


def test_import_without_torch_is_lazy():
    import subprocess
    import sys

    code = "import sys, gfo_native; assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ})
    assert out.stdout.strip() == "ok", out.stderr


def test_fresh_grads_every_step_and_sparse_after_dense():
    # zero_grad(set_to_none=True) gives new gradient tensors each step: the cached table follows them.
    torch.manual_seed(3)
    model = torch.nn.Linear(5, 3).double()
    ref = torch.nn.Linear(5, 3).double()
    ref.load_state_dict(model.state_dict())
    opts = [gt.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)]
    x = torch.randn(8, 5, dtype=torch.float64)
    for k in range(4):
        for mod, o in zip((model, ref), opts):
            o.zero_grad(set_to_none=True)
            (mod(x) ** 2).mean().backward()
            o.step()
    for a, b in zip(model.parameters(), ref.parameters()):
        assert rel_err(a.detach(), b.detach()) <= 1e-12
    w = model.weight
    w.grad = torch.zeros_like(w).t().contiguous().t()  # same shape, another memory layout than the parameter
    with pytest.raises(ValueError, match="same memory layout"):
        opts[0].step()


def _twins(n=3, size=5, seed=4):
    gen = torch.Generator().manual_seed(seed)
    init = [torch.randn(size, dtype=torch.float64, generator=gen) for _ in range(n)]
    return [torch.nn.Parameter(t.clone()) for t in init], [torch.nn.Parameter(t.clone()) for t in init]


def test_fast_path_notices_new_grad_pointer_and_grad_set_to_none():
    ps, qs = _twins()
    opt, ref = gt.Adam(ps, lr=0.1), torch.optim.Adam(qs, lr=0.1, foreach=False)
    gen = torch.Generator().manual_seed(5)

    def both(fn):
        for group in (ps, qs):
            fn(group)
        opt.step()
        ref.step()
        for a, b in zip(ps, qs):
            assert rel_err(a.detach(), b.detach()) <= 1e-12

    g = [torch.randn(5, dtype=torch.float64, generator=gen) for _ in range(3)]
    both(lambda group: [setattr(p, "grad", x.clone()) for p, x in zip(group, g)])
    both(lambda group: None)  # unchanged grads: the cached table is reused
    new = torch.randn(5, dtype=torch.float64, generator=gen)
    both(lambda group: setattr(group[1].grad, "data", new.clone()))  # same .grad object, new memory
    both(lambda group: group[0].grad.set_(new.clone() * 3))  # same object again, set_ to other storage
    both(lambda group: setattr(group[2], "grad", None))  # a grad set to None later: skipped from now on
    assert opt.state[ps[2]]["step"].item() == ref.state[qs[2]]["step"].item() == 4
    both(lambda group: setattr(group[2], "grad", new.clone()))  # and back
    both(lambda group: setattr(group[0], "grad", new.clone() * 2))  # a new .grad tensor (set_to_none style)
    for p, q in zip(ps, qs):
        assert opt.state[p]["step"].item() == ref.state[q]["step"].item()


def test_fast_path_notices_params_list_edited_and_sparse_after_dense():
    ps, qs = _twins(seed=6)
    extra_p, extra_q = _twins(n=1, seed=7)
    opt, ref = gt.SGD(ps, lr=0.1, momentum=0.9), torch.optim.SGD(qs, lr=0.1, momentum=0.9, foreach=False)
    for group in (ps, qs):
        for p in group:
            p.grad = torch.ones(5, dtype=torch.float64)
    opt.step()
    ref.step()
    opt.param_groups[0]["params"][1] = extra_p[0]  # same length, another Parameter: its own (new) state
    ref.param_groups[0]["params"][1] = extra_q[0]
    extra_p[0].grad = torch.full((5,), 2.0, dtype=torch.float64)
    extra_q[0].grad = extra_p[0].grad.clone()
    opt.step()
    ref.step()
    for a, b in zip(opt.param_groups[0]["params"], ref.param_groups[0]["params"]):
        assert rel_err(a.detach(), b.detach()) <= 1e-12
    ps[0].grad = torch.ones(5, dtype=torch.float64).to_sparse()
    with pytest.raises(TypeError, match="sparse"):
        opt.step()


def test_row_guard_refreshes_table_in_place():
    from gfo_native import _core
    from gfo_native.optim import _table as T

    ps = [torch.nn.Parameter(torch.zeros(3)) for _ in range(3)]
    ps[0].grad, ps[2].grad = torch.ones(3), torch.ones(3)
    table = T.new_table(2)
    table[:, T.NUMEL] = 3
    guard = _core.TorchRowGuard(ps, [p.grad for p in ps], [(table, 0), None, (table, 1)],
                                torch.Tensor.data_ptr, torch.Tensor.is_contiguous, torch.Tensor.numel)
    assert guard.check(ps)
    assert not guard.check(list(ps))  # another list object
    g = torch.full((3,), 2.0)
    ps[2].grad = g
    assert guard.check(ps) and int(table[1, T.GRAD]) == g.data_ptr()
    ps[2].grad = torch.zeros(3, 2).t()[0]  # non-contiguous: the Python rebuild raises the error
    assert not guard.check(ps)
    ps[2].grad = g
    assert guard.check(ps)
    full = ps[2].data
    ps[2].data = full[:2]  # shrunk behind the same address: a fresh gradient no longer fits the row
    ps[2].grad = torch.ones(2)
    assert not guard.check(ps)
    ps[2].data = full
    ps[2].grad = g
    assert guard.check(ps)
    ps[1].grad = torch.ones(3)  # a new row is needed
    assert not guard.check(ps)
    ps[1].grad = None
    ps[0].data = torch.zeros(3)  # the parameter moved
    assert not guard.check(ps)


def test_clip_fast_and_fallback_paths_match_torch():
    gen = torch.Generator().manual_seed(8)

    def model(dtypes):
        ps = [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=dt)) for s, dt in zip((3, 0, 1023, 7), dtypes)]
        for p in ps[:2] + ps[3:]:  # ps[2] has no gradient: skipped
            p.grad = torch.randn(p.shape, generator=gen, dtype=p.dtype) * 5
        qs = [torch.nn.Parameter(p.detach().clone()) for p in ps]
        for p, q in zip(ps, qs):
            q.grad = None if p.grad is None else p.grad.clone()
        return ps, qs

    for dtypes in ([torch.float64] * 4, [torch.float64, torch.float32, torch.float64, torch.float32]):
        ps, qs = model(dtypes)
        n1 = gt.clip_grad_norm_(iter(ps), 1.0)  # a generator, as model.parameters() gives
        n2 = torch.nn.utils.clip_grad_norm_(iter(qs), 1.0, foreach=False)
        assert n1.dtype == n2.dtype and abs(n1.item() - n2.item()) <= 1e-6 * n2.item()
        gt.clip_grad_value_(iter(ps), 0.01)
        torch.nn.utils.clip_grad_value_(iter(qs), 0.01, foreach=False)
        for p, q in zip(ps, qs):
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                assert rel_err(p.grad, q.grad) <= 1e-6
    ps, _ = model([torch.float32] * 4)
    ps[0].grad = ps[0].grad.to_sparse()
    with pytest.raises(TypeError, match="sparse"):
        gt.clip_grad_norm_(ps, 1.0)
    ps[0].grad = torch.zeros(3, 2).t()[0]
    with pytest.raises(ValueError, match="contiguous"):
        gt.clip_grad_value_(ps, 1.0)


def test_large_state_is_staggered_and_round_trips_through_torch():
    import io

    gen = torch.Generator().manual_seed(9)
    init = torch.randn(1 << 17, generator=gen)
    p, q = torch.nn.Parameter(init.clone()), torch.nn.Parameter(init.clone())
    opt = gt.Adam([p], lr=0.01, amsgrad=True)
    for _ in range(3):
        p.grad = torch.randn(p.shape, generator=gen)
        opt.step()
    st = opt.state[p]
    for slot, key in enumerate(("exp_avg", "exp_avg_sq", "max_exp_avg_sq")):
        assert st[key].is_contiguous() and st[key].shape == p.shape
        assert (st[key].data_ptr() - p.data_ptr()) % 4096 == 1024 * (slot + 1)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    ref = torch.optim.Adam([q], lr=0.01, amsgrad=True, foreach=False)
    q.data.copy_(p.data)
    ref.load_state_dict(torch.load(buf))
    for _ in range(2):
        g = torch.randn(p.shape, generator=gen)
        p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
    assert rel_err(p.detach(), q.detach()) <= 1e-6
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert rel_err(opt.state[p][key], ref.state[q][key]) <= 1e-6


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.01, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1))])
def test_small_state_is_cut_from_shared_arenas_and_round_trips_through_torch(name, kw):
    import io

    gen = torch.Generator().manual_seed(11)
    shapes = [(5, 3), (7,), (0,), (1000,), (64,), (2, 2)]
    init = [torch.randn(s, generator=gen) for s in shapes]
    ours = [torch.nn.Parameter(t.clone()) for t in init]
    theirs = [torch.nn.Parameter(t.clone()) for t in init]
    o_ours = getattr(gt, name)(ours, **kw)
    o_theirs = getattr(torch.optim, name)(theirs, foreach=False, **kw)
    late = len(shapes) - 1  # gets its first gradient only at step 2: its state comes from a later arena
    for k in range(4):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            g = torch.randn(shapes[i], generator=gen)
            a.grad, b.grad = (None, None) if (i == late and k < 2) else (g.clone(), g.clone())
        o_ours.step()
        o_theirs.step()
    keys = set(o_ours.state[ours[0]])
    assert keys and keys == set(o_theirs.state[theirs[0]])
    together = ours if name == "Adagrad" else ours[:late]  # torch's Adagrad creates all of its state up front
    for key in keys:
        # one buffer per state slot (and one for the step counters) for the parameters that started together
        storages = {o_ours.state[p][key].untyped_storage().data_ptr() for p in together}
        assert len(storages) == 1, key
        if name != "Adagrad":
            assert o_ours.state[ours[late]][key].untyped_storage().data_ptr() not in storages, key
        for p in together:
            t = o_ours.state[p][key]
            assert t.shape == (() if key == "step" else p.shape) and t.is_contiguous(), key
            assert key == "step" or t.numel() == 0 or t.data_ptr() % 64 == 0, key
    for a, b in zip(ours, theirs):
        assert rel_err(a.detach(), b.detach()) <= 1e-6
    # the views save and load like separate tensors, both ways
    buf = io.BytesIO()
    torch.save(o_ours.state_dict(), buf)
    buf.seek(0)
    back = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    ref = getattr(torch.optim, name)(back, foreach=False, **kw)
    ref.load_state_dict(torch.load(buf))
    for _ in range(2):
        gs = [torch.randn(s, generator=gen) for s in shapes]
        for a, b, g in zip(ours, back, gs):
            a.grad, b.grad = g.clone(), g.clone()
        o_ours.step()
        ref.step()
    for a, b in zip(ours, back):
        assert rel_err(a.detach(), b.detach()) <= 1e-6
        for key, t in o_ours.state[a].items():
            assert rel_err(t.reshape(-1).double(), ref.state[b][key].reshape(-1).double()) <= 1e-6, key


GATED = [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.01, momentum=0.9)),
         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1))]


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("name,kw", GATED)
def test_walk_during_the_step_stops_at_changes_and_the_rest_is_updated_once(threads, nthreads, name, kw):
    # 120 x 1000 float64 elements: several chunks, so with 2 threads the guard walks the cached table while
    # the other thread already updates the rows it has passed (the gated step); each change below stops the
    # walk in the middle of the list and the rebuilt table must update exactly the remaining parameters.
    threads(nthreads)
    n, size = 120, 1000
    gen = torch.Generator().manual_seed(12)
    init = [torch.randn(size, dtype=torch.float64, generator=gen) for _ in range(n)]
    ps, qs = [torch.nn.Parameter(t.clone()) for t in init], [torch.nn.Parameter(t.clone()) for t in init]
    extra = torch.randn(size, dtype=torch.float64, generator=gen)
    extra_p, extra_q = torch.nn.Parameter(extra.clone()), torch.nn.Parameter(extra.clone())
    opt = getattr(gt, name)(ps, **kw)
    ref = getattr(torch.optim, name)(qs, foreach=False, **kw)

    def rand():
        return torch.randn(size, dtype=torch.float64, generator=gen)

    def fresh_grads(group):
        return [rand() if i != n - 1 else None for i in range(n)]  # the last parameter has no gradient yet

    changes = [
        lambda: [("grads", fresh_grads(None))],
        lambda: [],  # nothing changed: the whole walk passes
        lambda: [("data", 70, rand())],  # new memory behind a parameter in the middle
        lambda: [("grad", 50, None)],  # a gradient set to None
        lambda: [("grad", 50, rand()), ("set_", 90, rand())],  # back; and the same .grad object on other memory
        lambda: [("grads", fresh_grads(None))],  # zero_grad(set_to_none=True) style: all new .grad tensors
        lambda: [("swap", 100, None)],  # the params list edited in place
        lambda: [("grad", n - 1, rand())],  # the last parameter gains a gradient: every cached row still passes
        lambda: [],
    ]
    for k, change in enumerate(changes):
        for what, *args in change():
            for group, other in ((opt.param_groups[0]["params"], extra_p), (ref.param_groups[0]["params"], extra_q)):
                if what == "grads":
                    for p, g in zip(group, args[0]):
                        p.grad = None if g is None else g.clone()
                elif what == "data":
                    group[args[0]].data = args[1].clone()
                elif what == "grad":
                    group[args[0]].grad = None if args[1] is None else args[1].clone()
                elif what == "set_":
                    group[args[0]].grad.set_(args[1].clone())
                else:
                    other.grad = group[args[0]].grad.clone()
                    group[args[0]] = other
        if k >= 2:
            assert opt._layouts[0].gated
        if name == "Adagrad":  # torch before 2.13 fills Adagrad's state in __init__ only; later, at a first step
            for q in ref.param_groups[0]["params"]:
                if not ref.state[q]:
                    ref.state[q].update(step=torch.tensor(0.0), sum=torch.zeros_like(q))
        opt.step()
        ref.step()
        for a, b in zip(opt.param_groups[0]["params"], ref.param_groups[0]["params"]):
            assert rel_err(a.detach(), b.detach()) <= 1e-12, k
            if "step" in ref.state[b]:
                assert opt.state[a]["step"].item() == ref.state[b]["step"].item(), k


@pytest.mark.parametrize("nthreads", [1, 2])
def test_walk_during_the_step_leaves_parameters_from_a_bad_gradient_on_untouched(threads, nthreads):
    threads(nthreads)
    n, size = 120, 1000
    gen = torch.Generator().manual_seed(13)
    ps = [torch.nn.Parameter(torch.randn(size, generator=gen)) for _ in range(n)]
    opt = gt.Adam(ps, lr=0.01)
    for _ in range(2):
        for p in ps:
            p.grad = torch.randn(size, generator=gen)
        opt.step()
    assert opt._layouts[0].gated
    before = [p.detach().clone() for p in ps]
    ps[60].grad = ps[60].grad.to_sparse()
    with pytest.raises(TypeError, match=r"params\[60\]\.grad: sparse"):
        opt.step()
    for i in range(60, n):  # the walk stopped at 60: nothing from there on was written
        assert torch.equal(ps[i].detach(), before[i]) and opt.state[ps[i]]["step"].item() == 2
    ps[60].grad = torch.randn(size, generator=gen)
    opt.step()
    assert all(opt.state[p]["step"].item() == (4 if i < 60 else 3) for i, p in enumerate(ps))


def test_gradient_resized_or_retyped_behind_the_same_object_is_an_error():
    # torch checks shape and dtype when .grad is assigned, not when the .grad tensor itself is changed
    ps = [torch.nn.Parameter(torch.zeros(5)) for _ in range(3)]
    for p in ps:
        p.grad = torch.ones(5)
    opt = gt.Adam(ps, lr=0.1)
    opt.step()
    ps[1].grad.set_(torch.ones(3))
    with pytest.raises(ValueError, match=r"params\[1\]\.grad: 3 elements of torch.float32, the parameter has 5"):
        opt.step()
    ps[1].grad = torch.ones(5)
    opt.step()
    ps[2].grad.data = torch.ones(5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"params\[2\]\.grad: 5 elements of torch.float64"):
        opt.step()
