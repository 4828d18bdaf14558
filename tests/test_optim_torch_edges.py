"""gfo_native.torch drop-ins on the edge cases a demanding torch.optim user meets: a step that raises and is
retried, parameters resized behind the cached tables, duplicated parameters, optimizers that keep no state,
bad arguments. Each case is checked against torch.optim (for-loop) where torch accepts it."""

import warnings

import pytest

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gfo_native.torch")


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


@pytest.mark.parametrize("dampening", [0.0, 0.5])
def test_sgd_step_that_raised_in_the_build_leaves_no_uninitialised_momentum(dampening):
    # The first parameter's new momentum buffer is created (uninitialised, to be set to the gradient by the
    # kernel), then the second parameter is refused. The retried step must start that buffer from the
    # gradient, as torch does, not from whatever the allocation held.
    gen = torch.Generator().manual_seed(0)
    a = torch.nn.Parameter(torch.randn(2000, generator=gen))
    bad = torch.nn.Parameter(torch.randn(40, 30, generator=gen).t())  # non-contiguous: refused
    ref = torch.nn.Parameter(a.detach().clone())
    opt = gt.SGD([a, bad], lr=0.1, momentum=0.9, dampening=dampening)
    r = torch.optim.SGD([ref], lr=0.1, momentum=0.9, dampening=dampening, foreach=False)
    g = torch.randn(2000, generator=gen)
    a.grad, bad.grad = g.clone(), torch.randn(30, 40, generator=gen)
    with pytest.raises(ValueError, match=r"params\[1\]"):
        opt.step()
    assert torch.equal(a.detach(), ref.detach())  # nothing was updated
    bad.grad = None
    for _ in range(3):
        a.grad, ref.grad = g.clone(), g.clone()
        opt.step()
        r.step()
    assert rel_err(opt.state[a]["momentum_buffer"], r.state[ref]["momentum_buffer"]) <= 1e-6
    assert rel_err(a.detach(), ref.detach()) <= 1e-6


def test_sgd_step_that_raised_before_the_kernel_leaves_no_uninitialised_momentum():
    # The table is built (new buffers), then the step raises before the kernel runs (a learning rate that
    # needs autograd); after the user fixes lr the buffers must start from the gradient.
    gen = torch.Generator().manual_seed(1)
    a = torch.nn.Parameter(torch.randn(3000, generator=gen))
    ref = torch.nn.Parameter(a.detach().clone())
    opt = gt.SGD([a], lr=0.1, momentum=0.9, dampening=0.3)
    r = torch.optim.SGD([ref], lr=0.1, momentum=0.9, dampening=0.3, foreach=False)
    g = torch.randn(3000, generator=gen)
    opt.param_groups[0]["lr"] = torch.tensor(0.1, requires_grad=True)
    a.grad = g.clone()
    with pytest.raises(ValueError, match="lr"):
        opt.step()
    opt.param_groups[0]["lr"] = 0.1
    for _ in range(2):
        a.grad, ref.grad = g.clone(), g.clone()
        opt.step()
        r.step()
    assert rel_err(a.detach(), ref.detach()) <= 1e-6


@pytest.mark.parametrize("name", ["Adam", "SGD", "Adagrad"])
def test_parameter_shrunk_behind_the_cached_table_is_an_error(name):
    # p.data = p.data[:k] keeps the parameter's address; the next (fresh) gradient has k elements. The cached
    # row still says 1000: the step must not read 1000 elements of a 10-element gradient (torch raises too).
    kw = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    p = torch.nn.Parameter(torch.randn(1000))
    q = torch.nn.Parameter(torch.randn(10))
    opt = getattr(gt, name)([p, q], **kw)
    p.grad, q.grad = torch.randn(1000), torch.randn(10)
    opt.step()
    p.data = p.data[:10]
    p.grad, q.grad = torch.randn(10), torch.randn(10)
    with pytest.raises(ValueError, match=r"params\[0\]"):
        opt.step()


@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_duplicate_parameters_in_a_group_are_refused(name):
    # torch.optim warns that this will become an error and updates the tensor twice, one after the other; one
    # fused pass would update it twice concurrently (a race), so it is refused, naming the parameter.
    a, b = torch.nn.Parameter(torch.randn(4)), torch.nn.Parameter(torch.randn(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"params\[2\].*params\[0\]"):
            getattr(gt, name)([a, b, a], lr=0.1)
        opt = getattr(gt, name)([a], lr=0.1)
        with pytest.raises(ValueError, match="params"):
            opt.add_param_group({"params": [b, b]})
    # a list edited in place after construction is caught at the step
    opt.param_groups[0]["params"].append(a)
    a.grad = torch.randn(4)
    before = a.detach().clone()
    with pytest.raises(ValueError, match=r"params\[1\].*params\[0\]"):
        opt.step()
    assert torch.equal(a.detach(), before)


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9)])
def test_sgd_state_entries_are_those_of_torch(kw):
    # torch.optim.SGD without momentum keeps no state at all: opt.state and state_dict()["state"] stay empty
    ps = [torch.nn.Parameter(torch.randn(3)) for _ in range(2)]
    qs = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt, ref = gt.SGD(ps, **kw), torch.optim.SGD(qs, foreach=False, **kw)
    for _ in range(2):
        for p, q in zip(ps, qs):
            p.grad = q.grad = torch.ones(3)
        opt.step()
        ref.step()
    assert len(opt.state) == len(ref.state)
    assert opt.state_dict()["state"].keys() == ref.state_dict()["state"].keys()
    assert all(rel_err(p.detach(), q.detach()) <= 1e-6 for p, q in zip(ps, qs))


def test_clip_grad_value_refuses_what_it_cannot_clip_like_torch():
    # torch.clamp(-c, c) with c < 0 sets every element to c; a negative (or NaN) bound is refused instead of
    # clipping differently
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.tensor([-2.0, 0.5, 3.0])
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="clip_value"):
            gt.clip_grad_value_([p], bad)
    with pytest.raises(TypeError, match="clip_value"):
        gt.clip_grad_value_([p], "1")
    with pytest.raises(TypeError, match="max_norm"):
        gt.clip_grad_norm_([p], None)
    assert torch.equal(p.grad, torch.tensor([-2.0, 0.5, 3.0]))
    gt.clip_grad_value_([p], 1.0)
    assert torch.equal(p.grad, torch.tensor([-1.0, 0.5, 1.0]))


@pytest.mark.parametrize("name,kw,arg", [
    ("SGD", dict(lr="x"), "learning rate"), ("Adam", dict(lr=None), "learning rate"),
    ("SGD", dict(momentum=None), "momentum"), ("RMSprop", dict(alpha="a"), "alpha"),
    ("Adagrad", dict(eps=None), "epsilon"), ("AdamW", dict(weight_decay=[1]), "weight_decay"),
    ("Adam", dict(betas=(0.9,)), "betas"), ("Adam", dict(betas="ab"), "beta"),
    # tensors: what is wrong with them is said (a complex one failed in float() without naming anything)
    ("SGD", dict(lr=torch.tensor([0.1, 0.2])), r"learning rate: expected a number or a one-element real tensor, "
                                               r"got a tensor of shape \(2,\)"),
    ("Adam", dict(lr=torch.tensor(0.1 + 0.1j)), r"learning rate: .*dtype torch\.complex64"),
    ("RMSprop", dict(momentum=torch.tensor(0.5j)), "momentum"),
])
def test_bad_arguments_name_the_argument(name, kw, arg):
    with pytest.raises((TypeError, ValueError), match=arg):
        getattr(gt, name)([torch.nn.Parameter(torch.zeros(2))], **kw)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad"])
@pytest.mark.parametrize("step_dtype", [torch.int64, torch.int32, torch.float16])
def test_checkpoint_with_a_step_counter_of_another_dtype_continues_as_in_torch(name, step_dtype):
    # torch.optim steps with whatever scalar tensor the checkpoint holds (an int64 step from older or
    # third-party code); the fused step takes float32/float64 counters, so it converts such a one-element
    # counter (exactly, for integers) instead of refusing a checkpoint torch loads.
    gen = torch.Generator().manual_seed(3)
    init = torch.randn(6, generator=gen)
    grads = [torch.randn(6, generator=gen) for _ in range(4)]
    ps = {lib: torch.nn.Parameter(init.clone()) for lib in ("ours", "torch")}
    opts = {"ours": getattr(gt, name)([ps["ours"]], lr=0.05),
            "torch": getattr(torch.optim, name)([ps["torch"]], lr=0.05, foreach=False)}
    for lib, opt in opts.items():
        ps[lib].grad = grads[0].clone()
        opt.step()
        sd = opt.state_dict()
        sd["state"][0]["step"] = sd["state"][0]["step"].to(step_dtype)
        opt.load_state_dict(sd)
        for g in grads[1:]:
            ps[lib].grad = g.clone()
            opt.step()
    assert rel_err(ps["ours"].detach(), ps["torch"].detach()) <= 1e-6
    assert float(opts["ours"].state[ps["ours"]]["step"]) == float(opts["torch"].state[ps["torch"]]["step"]) == 4


def test_clip_grad_norm_returns_the_norm_in_torchs_dtype_for_mixed_gradients():
    # torch stacks the per-tensor norms: float32 and float64 gradients give a float64 total
    def model():
        a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
        a.grad, b.grad = torch.full((3,), 2.0), torch.full((2,), 3.0, dtype=torch.float64)
        return [a, b]

    ours, theirs = model(), model()
    n_ours, n_theirs = gt.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert n_ours.dtype == n_theirs.dtype == torch.float64
    assert abs(n_ours.item() - n_theirs.item()) <= 1e-6
    for p, q in zip(ours, theirs):
        assert rel_err(p.grad, q.grad) <= 1e-6
