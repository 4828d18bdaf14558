"""MeZO/ES inputs and checkpoints at their edges: tensors listed twice or sharing memory, state buffers of the
wrong size, bfloat16 parameters with momentum through state_dict/load_state_dict, coefficients beyond float32,
and the loss types a closure may return."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gfo_native.torch as gt  # noqa: E402
from gfo_native.torch import _zo_kernels as K  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _loss(params):
    return lambda: sum(((p.float() - 0.3) ** 2).sum() for p in params)


# -- tensors sharing memory ---------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:optimizer contains a parameter group with duplicate parameters")
@pytest.mark.parametrize("make", [
    lambda p, q: gt.MeZO([p, q, p], lr=0.1),
    lambda p, q: gt.ES([{"params": [p]}, {"params": [q, p]}], lr=0.1),
])
def test_a_tensor_listed_twice_is_refused(make):
    p, q = torch.nn.Parameter(torch.zeros(4)), torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError, match=r"params\[0\] and params\[2\]|more than one parameter group"):
        make(p, q)


def test_views_of_one_storage_are_refused():
    base = torch.zeros(100)
    a, b, c = (torch.nn.Parameter(base[s]) for s in (slice(0, 10), slice(60, 100), slice(50, 61)))
    gt.MeZO([a, b], lr=0.1)  # disjoint views are fine
    with pytest.raises(ValueError, match=r"params\[1\] and params\[2\]: the tensors share memory"):
        gt.MeZO([a, b, c], lr=0.1)


def test_add_param_group_is_checked_like_the_constructor():
    p = torch.nn.Parameter(torch.zeros(4))
    opt = gt.MeZO([p], lr=0.1)
    with pytest.raises(ValueError, match="share memory"):
        opt.add_param_group({"params": [torch.nn.Parameter(p.data[1:])]})
    with pytest.raises(TypeError, match=r"params\[1\]"):
        gt.MeZO([p], lr=0.1).add_param_group({"params": [torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))]})
    with pytest.raises(ValueError, match="lr"):
        gt.MeZO([p], lr=0.1).add_param_group({"params": [torch.nn.Parameter(torch.zeros(3))], "lr": -1.0})


def test_tied_module_weights_are_one_parameter_and_train():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(6, 4)
    head = torch.nn.Linear(4, 6, bias=False)
    head.weight = emb.weight  # weight tying: model.parameters() lists it once
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    assert len(list(model.parameters())) == 1
    opt = gt.MeZO(model.parameters(), lr=0.05, eps=1e-2, seed=1)
    x = torch.arange(6)
    before = emb.weight.detach().clone()
    opt.step(lambda: torch.nn.functional.cross_entropy(head(emb(x)), x))
    assert not torch.equal(before, emb.weight) and head.weight is emb.weight


# -- state buffers -------------------------------------------------------------------------------------------

def test_momentum_buffer_of_another_size_is_refused_before_any_write():
    p = torch.nn.Parameter(torch.randn(50_000, generator=torch.Generator().manual_seed(0)))
    opt = gt.MeZO([p], lr=1e-3, momentum=0.9, seed=0)
    opt.step(_loss([p]))
    opt.state[p]["momentum_buffer"] = torch.zeros(10)
    with pytest.raises(ValueError, match=r"momentum_buffers\[0\]: 10 elements, but its parameter has 50000"):
        opt.step(_loss([p]))


def test_zo_apply_checks_buffers_in_both_impls():
    p = torch.zeros(8)
    streams = K.direction_streams([0], 1)
    for impl in ("native", "reference"):
        with pytest.raises(ValueError, match=r"grad_buffers\[0\]: 7 elements"):
            K.zo_apply([p], seed=0, distribution=0, streams=streams, ops=[(0, 1.0)], coefs=[1.0], lrs=[0.1],
                       grad_buffers=[torch.zeros(7)], impl=impl)
        with pytest.raises(TypeError, match=r"momentum_buffers\[0\]"):
            K.zo_apply([p], seed=0, distribution=0, streams=streams, ops=[(0, 1.0)], coefs=[1.0], lrs=[0.1],
                       momentum=0.5, momentum_buffers=[torch.zeros(8, dtype=torch.float64)], impl=impl)
    assert torch.equal(p, torch.zeros(8))


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_bf16_momentum_resumes_bit_identically(impl):
    def run(split):
        g = torch.Generator().manual_seed(0)
        ps = [torch.nn.Parameter(torch.randn(40, generator=g).to(torch.bfloat16)),
              torch.nn.Parameter(torch.randn(9, generator=g))]

        def make():
            return gt.MeZO(ps, lr=1e-2, eps=1e-2, n_directions=2, momentum=0.9, seed=3, impl=impl)

        opt = make()
        for k in range(6):
            if k == split:
                sd = copy.deepcopy(opt.state_dict())
                opt = make()
                opt.load_state_dict(sd)
                assert all(opt.state[p]["momentum_buffer"].dtype == torch.float32 for p in ps)
                # the float32 buffer survives load_state_dict without a detour through bfloat16
                assert torch.equal(opt.state[ps[0]]["momentum_buffer"], sd["state"][0]["momentum_buffer"])
            opt.step(_loss(ps))
        return ps

    straight, resumed = run(None), run(3)
    assert all(torch.equal(a, b) for a, b in zip(straight, resumed))


# -- coefficients and losses ---------------------------------------------------------------------------------

def test_coefficient_beyond_float32_is_skipped_not_applied():
    p = torch.nn.Parameter(torch.ones(10))
    q = p.detach().clone()
    opt = gt.MeZO([p], lr=1e-40, eps=1e-3, n_directions=2, seed=0)
    values = iter([1e36, -1e36, 1.0, 0.5])  # direction 0: (2e36) / (2e-3 * 2) overflows float32; direction 1 fine
    opt.step(lambda: next(values))
    assert opt.nskipped == 1
    coefs = opt.log["steps"][-1]["coefs"]
    assert coefs[0] == 0.0 and coefs[1] == np.float32((1.0 - 0.5) / (2e-3 * 2))
    assert bool(torch.isfinite(p).all())
    r = q.clone()
    gt.replay([r], opt.log)
    assert torch.equal(r, p.detach())


@pytest.mark.parametrize("value", [torch.tensor(2.5), torch.tensor([2.5]), torch.tensor([[2.5]], dtype=torch.float64),
                                   torch.tensor(2.5, dtype=torch.bfloat16), np.float32(2.5), np.array([2.5]), 2.5,
                                   5 // 2])
def test_closure_may_return_any_real_scalar(value):
    p = torch.nn.Parameter(torch.zeros(3))
    assert gt.MeZO([p], lr=0.0, seed=0).step(lambda: value) == (2.0 if isinstance(value, int) else 2.5)


@pytest.mark.parametrize("value, error, match", [
    (None, TypeError, "closure: expected the loss as a number.*NoneType"),
    ("1.0", TypeError, "closure: expected the loss as a number.*str"),
    (torch.tensor(1 + 1j), TypeError, "closure: expected a real loss"),
    (torch.zeros(2), ValueError, r"closure: expected a scalar loss.*\(2,\)"),
    (np.zeros((1, 2)), ValueError, r"closure: expected a scalar loss.*\(1, 2\)"),
])
def test_closure_returning_no_loss_raises_naming_it_and_restores(value, error, match):
    p = torch.nn.Parameter(torch.arange(4.0) / 8)
    before = p.detach().clone()
    opt = gt.MeZO([p], lr=0.1, eps=2.0 ** -4, distribution="rademacher", seed=0)
    with pytest.raises(error, match=match):
        opt.step(lambda: value)
    assert torch.equal(p.detach(), before) and opt.log["steps"][-1].get("trips") == 1


# -- frozen parameters ---------------------------------------------------------------------------------------

FROZEN_CONFIGS = {
    "mezo-momentum": lambda ps: gt.MeZO(ps, lr=0.05, eps=1e-2, n_directions=2, momentum=0.9, weight_decay=0.1,
                                        seed=3),
    "mezo-1sided": lambda ps: gt.MeZO(ps, lr=0.05, eps=1e-2, two_sided=False, distribution="rademacher", seed=4),
    "es-adam": lambda ps: gt.ES(ps, lr=0.05, sigma=1e-2, population=3, optimizer="adam", weight_decay=0.1, seed=5),
}


def _three(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(n, generator=g)) for n in (30, 20, 10)]


@pytest.mark.parametrize("impl", ["native", "reference"])
@pytest.mark.parametrize("kind", sorted(FROZEN_CONFIGS))
def test_frozen_parameter_is_left_alone_and_the_others_keep_their_streams(kind, impl):
    make = FROZEN_CONFIGS[kind]
    ps = _three()
    ps[1].requires_grad_(False)
    frozen0 = ps[1].detach().clone()
    opt = make(ps)
    opt.impl = impl
    for _ in range(3):
        opt.step(_loss(ps))
    assert torch.equal(ps[1].detach(), frozen0)
    assert ps[1] not in opt.state or "momentum_buffer" not in opt.state[ps[1]]
    assert ps[1].grad is None
    # the same run with an empty tensor at the frozen one's place (and its values as a constant in the loss)
    qs = _three()
    stand_in = [qs[0], torch.nn.Parameter(torch.empty(0)), qs[2]]
    opt2 = make(stand_in)
    opt2.impl = impl
    for _ in range(3):
        opt2.step(_loss([qs[0], frozen0, qs[2]]))
    assert torch.equal(ps[0].detach(), qs[0].detach()) and torch.equal(ps[2].detach(), qs[2].detach())
    assert not torch.equal(ps[0].detach(), _three()[0].detach())


@pytest.mark.parametrize("kind", sorted(FROZEN_CONFIGS))
def test_freezing_and_unfreezing_mid_run_replays_bit_for_bit(kind):
    ps = _three(1)
    init = [p.detach().clone() for p in ps]
    opt = FROZEN_CONFIGS[kind](ps)
    for k in range(6):
        ps[0].requires_grad_(k not in (1, 2))
        ps[2].requires_grad_(k != 4)
        before = [p.detach().clone() for p in ps]
        opt.step(_loss(ps))
        assert torch.equal(ps[0].detach(), before[0]) == (k in (1, 2))
        assert torch.equal(ps[2].detach(), before[2]) == (k == 4)
    assert [st.get("frozen") for st in opt.log["steps"]] == [None, [0], [0], None, [2], None]
    rs = [torch.nn.Parameter(t.clone()) for t in init]
    gt.replay(rs, opt.log)
    assert all(torch.equal(r.detach(), p.detach()) for r, p in zip(rs, ps))


def test_plain_tensors_without_grad_are_trained_and_logs_stay_as_before():
    g = torch.Generator().manual_seed(0)
    ts = [torch.randn(5, generator=g), torch.randn(3, generator=g)]  # requires_grad False, not Parameters
    before = [t.clone() for t in ts]
    opt = gt.MeZO(ts, lr=0.1, eps=1e-2, seed=0)
    opt.step(_loss(ts))
    assert all(not torch.equal(a, b) for a, b in zip(before, ts))
    assert set(opt.log["steps"][0]) == {"counter", "h", "coefs", "lr", "weight_decay"}


def test_frozen_parameters_in_an_abandoned_step_are_not_touched():
    ps = _three(2)
    ps[0].requires_grad_(False)
    frozen0 = ps[0].detach().clone()
    opt = gt.MeZO(ps, lr=0.1, eps=2.0 ** -4, n_directions=2, distribution="rademacher", seed=0)
    calls = iter([1.0, 2.0, 3.0])

    def closure():
        v = next(calls)
        if v == 3.0:
            raise RuntimeError("bad batch")
        return v

    with pytest.raises(RuntimeError, match="bad batch"):
        opt.step(closure)
    assert torch.equal(ps[0].detach(), frozen0) and opt.log["steps"][-1] == {
        "counter": 0, "h": 2.0 ** -4, "trips": 2, "frozen": [0]}


# -- resuming under other settings ---------------------------------------------------------------------------

@pytest.mark.parametrize("other, key", [
    (lambda ps: gt.MeZO(ps, lr=0.1, seed=1), "seed"),
    (lambda ps: gt.MeZO(ps, lr=0.1, distribution="rademacher"), "distribution"),
    (lambda ps: gt.MeZO(ps, lr=0.1, n_directions=2), "n_directions"),
    (lambda ps: gt.MeZO(ps, lr=0.1, two_sided=False), "two_sided"),
    (lambda ps: gt.MeZO(ps, lr=0.1, momentum=0.5), "momentum"),
    (lambda ps: gt.MeZO([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1), "groups"),
    (lambda ps: gt.ES(ps, lr=0.1, population=1), "kind"),
])
def test_resuming_with_settings_that_replay_reads_is_refused(other, key):
    ps = _three()
    init = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt = gt.MeZO(ps, lr=0.1, eps=1e-2)
    opt.step(_loss(ps))
    sd = copy.deepcopy(opt.state_dict())
    fresh = other(ps)
    with pytest.raises(ValueError, match=f"state_dict: written by a run with {key}="):
        fresh.load_state_dict(sd)
    assert fresh.log["steps"] == []
    # eps may change on resume (each step logs its own h), and the resumed log still replays
    again = gt.MeZO(ps, lr=0.1, eps=3e-2)
    again.load_state_dict(sd)
    again.step(_loss(ps))
    gt.replay(init, again.log)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(init, ps))


def test_es_adam_state_is_not_loaded_into_es_sgd():
    ps = _three()
    opt = gt.ES(ps, lr=0.1, population=2, optimizer="adam")
    opt.step(_loss(ps))
    with pytest.raises(ValueError, match="optimizer='adam'"):
        gt.ES(ps, lr=0.1, population=2).load_state_dict(opt.state_dict())


# -- a group added mid-run -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(FROZEN_CONFIGS))
def test_group_added_mid_run_is_trained_and_the_log_replays(kind):
    ps = _three(3)
    init = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt = FROZEN_CONFIGS[kind](ps[:2])
    for _ in range(2):
        opt.step(_loss(ps))
    opt.add_param_group({"params": [ps[2]], "lr": 0.02})
    added = ps[2].detach().clone()
    for _ in range(3):
        opt.step(_loss(ps))
    # trained, not just moved by the round trips' rounding (those stay below 1e-6 here)
    assert (ps[2].detach() - added).abs().max() > 1e-3
    assert [st.get("ntensors") for st in opt.log["steps"]] == [2, 2, None, None, None]
    gt.replay(init, opt.log)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(init, ps))


def test_replay_refuses_tensors_in_another_order_and_resume_another_model():
    ps = _three(4)
    init = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt = gt.MeZO([{"params": [ps[0], ps[2]]}, {"params": [ps[1]], "weight_decay": 0.0}], lr=0.1, eps=1e-2)
    opt.step(_loss(ps))
    assert opt.log["sizes"] == [30, 10, 20]
    with pytest.raises(ValueError, match=r"params\[1\]: 20 elements, the run's tensor 1 had 10"):
        gt.replay(init, opt.log)  # the module order, not the optimizer's
    before = [p.detach().clone() for p in init]
    assert all(torch.equal(a.detach(), b) for a, b in zip(init, before))
    gt.replay([init[0], init[2], init[1]], opt.log)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip([init[0], init[2], init[1]], opt._params()))
    other = [torch.nn.Parameter(torch.zeros(n)) for n in (30, 11, 20)]
    with pytest.raises(ValueError, match=r"state_dict: written by a run with sizes=\[30, 10, 20\]"):
        gt.MeZO([{"params": other[:2]}, {"params": other[2:], "weight_decay": 0.0}], lr=0.1, eps=1e-2
                ).load_state_dict(opt.state_dict())


def test_logs_without_sizes_still_replay_and_resume():
    ps = _three(5)
    init = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    opt = gt.MeZO(ps, lr=0.1, eps=1e-2, momentum=0.5)
    opt.step(_loss(ps))
    sd = copy.deepcopy(opt.state_dict())
    del sd["seed_optimizer"]["log"]["sizes"]  # as written before the log had sizes
    again = gt.MeZO(ps, lr=0.1, eps=1e-2, momentum=0.5)
    again.load_state_dict(sd)
    again.step(_loss(ps))
    log = again.log
    del log["sizes"]
    gt.replay(init, log)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(init, ps))


def test_momentum_buffer_none_is_created_not_ignored():
    runs = []
    for reset in (False, True):
        ps = _three(6)
        opt = gt.MeZO(ps, lr=0.1, eps=1e-2, momentum=0.9, seed=2)
        if reset:
            for p in ps:
                opt.state[p]["momentum_buffer"] = None  # as torch.optim.SGD's state before its first step
        for _ in range(2):
            opt.step(_loss(ps))
        assert all(opt.state[p]["momentum_buffer"] is not None for p in ps)
        runs.append(ps)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(*runs))


@pytest.mark.parametrize("make, error, match", [
    (lambda p: gt.MeZO([p], lr=0.1, two_sided="False"), TypeError, "two_sided: expected True or False, got str"),
    (lambda p: gt.MeZO([p], lr=0.1, two_sided=None), TypeError, "two_sided: expected True or False"),
    (lambda p: gt.ES([p], lr=0.1, betas=(0.9,)), ValueError, r"betas: expected two values"),
    (lambda p: gt.ES([p], lr=0.1, betas=(1.0, 0.999), optimizer="adam"), ValueError, r"betas\[0\]: .*\[0, 1\)"),
    (lambda p: gt.ES([p], lr=0.1, betas=(0.9, 1.0), optimizer="adam"), ValueError, r"betas\[1\]: .*\[0, 1\)"),
    (lambda p: gt.replay([p], "log"), TypeError, "log: expected the optimizer's log"),
    (lambda p: gt.replay([p], {"groups": [0]}), ValueError, r"log: missing \['seed'"),
])
def test_bad_arguments_name_themselves(make, error, match):
    with pytest.raises(error, match=match):
        make(torch.nn.Parameter(torch.zeros(3)))


def test_numpy_bool_two_sided_is_accepted():
    assert gt.MeZO([torch.nn.Parameter(torch.zeros(3))], lr=0.1, two_sided=np.bool_(False)).two_sided is False


# -- lr as a tensor, frozen tensors of other dtypes -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["mezo", "es"])
def test_tensor_lr_is_read_each_step_as_torch_optim_reads_it(kind):
    """A one-element tensor lr (as torch.optim takes, e.g. for a scheduler that fills it in place) gives the
    same weights as the same float, and a change made to it in place between steps is used by the next."""
    def run(lrs, as_tensor):
        p = torch.nn.Parameter(torch.linspace(-1, 1, 37))
        lr = torch.tensor(lrs[0]) if as_tensor else lrs[0]
        make = gt.MeZO if kind == "mezo" else gt.ES
        opt = make([p], lr=lr, seed=3)
        for v in lrs:
            if as_tensor:
                lr.fill_(v)
            else:
                opt.param_groups[0]["lr"] = v
            opt.step(_loss([p]))
        return p.detach().clone(), opt.log
    lrs = [float(torch.tensor(v)) for v in (0.05, 0.01, 0.2)]  # float32 values, as the tensor holds them
    (a, log_a), (b, log_b) = run(lrs, True), run(lrs, False)
    assert torch.equal(a, b)
    assert [st["lr"] for st in log_a["steps"]] == [[v] for v in lrs] == [st["lr"] for st in log_b["steps"]]


@pytest.mark.parametrize("bad, error, match", [
    (torch.tensor([0.1, 0.2]), TypeError, "lr: expected a number or a one-element real tensor"),
    (torch.tensor(0.1, requires_grad=True), ValueError, "lr: a tensor that requires grad"),
    (torch.tensor(float("nan")), ValueError, "lr: expected a finite number"),
    (torch.tensor(-0.1), ValueError, "lr: expected a value >= 0"),
])
def test_bad_tensor_lr_names_itself(bad, error, match):
    with pytest.raises(error, match=match):
        gt.MeZO([torch.nn.Parameter(torch.zeros(3))], lr=bad)


def test_es_adam_leaves_a_frozen_bf16_tensor_alone_and_trains_it_once_unfrozen():
    """A frozen bfloat16 tensor is never stepped (no .grad, bit for bit unchanged); unfrozen, Adam trains it
    (its estimate rounded into a bf16 .grad, bf16 moments)."""
    p = torch.nn.Parameter(torch.linspace(-1, 1, 9))
    q = torch.nn.Parameter(torch.linspace(0, 1, 5).to(torch.bfloat16), requires_grad=False)
    opt = gt.ES([p, q], lr=0.05, population=2, optimizer="adam")
    p0, q0 = p.detach().clone(), q.detach().clone()
    opt.step(_loss([p, q]))
    assert not torch.equal(p, p0) and torch.equal(q, q0) and q.grad is None
    q.requires_grad_(True)
    opt.step(_loss([p, q]))
    assert not torch.equal(q, q0) and q.grad.dtype == torch.bfloat16
    assert opt._adam.state[q]["exp_avg"].dtype == torch.bfloat16
