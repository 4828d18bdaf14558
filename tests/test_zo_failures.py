"""MeZO/ES when a step goes wrong: a closure that raises or returns a non-scalar mid-step (parameters
restored, no state advanced, the retry equal to an uninterrupted run, replay still exact), steps whose
losses are all or partly NaN/inf, and argument errors."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gfo_native.torch as gt  # noqa: E402
from gfo_native.torch import _zo_kernels as K  # noqa: E402
from gfo_native.torch.es import centered_ranks  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

H = 2.0 ** -4  # eps / sigma; with Rademacher z and parameters on a 1/8 grid every round trip is exact

CONFIGS = {
    "mezo-3dirs": lambda ps: gt.MeZO(ps, lr=0.05, eps=H, n_directions=3, distribution="rademacher", seed=3),
    "mezo-1sided-momentum": lambda ps: gt.MeZO(ps, lr=0.05, eps=H, n_directions=2, two_sided=False,
                                               momentum=0.9, distribution="rademacher", seed=5),
    "mezo-momentum-wd": lambda ps: gt.MeZO(ps, lr=0.05, eps=H, weight_decay=0.1, n_directions=2, momentum=0.5,
                                           distribution="rademacher", seed=7),
    "es": lambda ps: gt.ES(ps, lr=0.05, sigma=H, population=3, distribution="rademacher", seed=9),
    "es-adam-wd": lambda ps: gt.ES(ps, lr=0.05, sigma=H, population=2, weight_decay=0.1, optimizer="adam",
                                   distribution="rademacher", seed=11),
}


class Boom(RuntimeError):
    pass


def _grid_params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(-8, 9, (5, 3), generator=g).float() / 8, torch.randint(-8, 9, (7,), generator=g).float() / 8]


def _loss_of(ps):
    def loss():
        x = torch.cat([p.reshape(-1) for p in ps]).double()
        return (x - 0.3).square().sum() + torch.sin(3 * x).sum()
    return loss


def _n_evals(opt):
    return opt.n_directions * 2 if opt.two_sided else opt.n_directions + 1


def _failing(loss, fail_at, how):
    calls = [0]

    def closure():
        calls[0] += 1
        if calls[0] == fail_at + 1:
            if how == "raise":
                raise Boom("out of memory")
            return torch.zeros(2)  # not a scalar: MeZO/ES reject it
        return loss()
    return closure


def _state(opt):
    """Everything that must not move on a failed step, as comparable plain data / tensor copies."""
    sd = opt.state_dict()
    extra = sd.pop("seed_optimizer")
    mom = [opt.state[p].get("momentum_buffer") for p in opt._params()]
    return dict(step=extra["step"], nskipped=extra["nskipped"], log=copy.deepcopy(extra["log"]["steps"]),
                mom=[None if b is None else b.clone() for b in mom], adam=copy.deepcopy(sd.get("adam")))


def _assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


def _warm(make):
    """An optimizer after an lr-0 step: momentum / Adam state filled, parameters still on the grid."""
    ps = _grid_params()
    init = [p.clone() for p in ps]
    opt = make(ps)
    loss = _loss_of(ps)
    lrs = [g["lr"] for g in opt.param_groups]
    for g in opt.param_groups:
        g["lr"] = 0.0
    opt.step(loss)
    for g, lr in zip(opt.param_groups, lrs):
        g["lr"] = lr
    for a, b in zip(init, ps):
        assert torch.equal(a, b)
    return init, ps, opt, loss


def _run(make, fail_at=None, how="raise"):
    """A warm optimizer, a step that may fail, two more steps."""
    init, ps, opt, loss = _warm(make)
    if fail_at is not None:
        before = [p.clone() for p in ps]
        state = _state(opt)
        with pytest.raises(Boom if how == "raise" else ValueError):
            opt.step(_failing(loss, fail_at, how))
        for a, b in zip(before, ps):
            assert torch.equal(a, b)
        after = _state(opt)
        log_after = after.pop("log")
        log_before = state.pop("log")
        _assert_same(state, after)
        perturbed = fail_at > 0 or opt.two_sided  # one-sided: the first evaluation is unperturbed
        assert log_after[:len(log_before)] == log_before
        assert len(log_after) == len(log_before) + int(perturbed)
        if perturbed:
            assert "coefs" not in log_after[-1] and log_after[-1]["counter"] == state["step"] * opt.n_directions
        assert opt.current_direction is None
    for _ in range(2):
        opt.step(loss)
    return init, ps, opt


@pytest.mark.parametrize("how", ["raise", "vector"])
@pytest.mark.parametrize("kind", list(CONFIGS))
def test_failed_step_restores_and_retry_matches_uninterrupted(kind, how):
    _, ref, ref_opt = _run(CONFIGS[kind])
    positions = range(_n_evals(ref_opt)) if how == "raise" else [_n_evals(ref_opt) - 1]
    for fail_at in positions:
        init, ps, opt = _run(CONFIGS[kind], fail_at, how)
        assert opt._step_count == ref_opt._step_count
        for a, b in zip(ref, ps):
            assert torch.equal(a, b), (kind, fail_at)
        assert not all(torch.equal(a, b) for a, b in zip(init, ps))  # the run did move
        for a, b in zip(ref_opt.state_dict()["state"].values(), opt.state_dict()["state"].values()):
            _assert_same(a, b)
        gt.replay(init, opt.log)
        for a, b in zip(init, ps):
            assert torch.equal(a, b), (kind, fail_at)


def _round_trip_bound(opt, x0, trips):
    """Per element, the sum over ``trips`` directions of MeZO's documented round-trip bound (two-sided)."""
    u = 2.0 ** -24
    h = opt._scale()
    streams = K.direction_streams(range(opt._step_count * opt.n_directions,
                                        opt._step_count * opt.n_directions + trips), len(x0))
    out = []
    for t, x in enumerate(x0):
        xd = x.double().reshape(-1)
        b = torch.zeros_like(xd)
        for d in range(trips):
            a = h * torch.from_numpy(K.directions(opt.seed, int(streams[d, t]), 0, x.numel())).double()
            b += u * ((xd + a).abs() + (xd - a).abs() + xd.abs())
        out.append(b.reshape(x.shape) * 1.01 + 1e-45)
    return out


@pytest.mark.parametrize("optimizer", ["mezo", "es-adam"])
def test_failed_step_with_gaussian_noise_is_within_round_trip_bound(optimizer):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    X = torch.randn(32, 6)
    loss = lambda: m(X).square().mean()  # noqa: E731
    if optimizer == "mezo":
        opt = gt.MeZO(m.parameters(), lr=1e-2, eps=1e-2, n_directions=3, momentum=0.9, seed=1)
    else:
        opt = gt.ES(m.parameters(), lr=1e-2, sigma=1e-2, population=3, optimizer="adam", seed=1)
    init = [p.detach().clone() for p in m.parameters()]
    opt.step(loss)
    for fail_at in range(_n_evals(opt)):
        x0 = [p.detach().clone() for p in m.parameters()]
        step0 = opt._step_count
        with pytest.raises(Boom):
            opt.step(_failing(loss, fail_at, "raise"))
        assert opt._step_count == step0
        bounds = _round_trip_bound(opt, x0, fail_at // 2 + 1)
        for a, p, b in zip(x0, m.parameters(), bounds):
            assert torch.all((p.detach().double() - a.double()).abs() <= b)
    opt.step(loss)
    final = [p.detach().clone() for p in m.parameters()]
    gt.replay(init, opt.log)
    for a, b in zip(init, final):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["es", "es-adam-wd", "mezo-momentum-wd", "mezo-1sided-momentum"])
def test_all_non_finite_step_makes_no_update(kind):
    init, ps, opt, loss = _warm(CONFIGS[kind])
    before = [p.clone() for p in ps]
    state = _state(opt)
    bad = iter([float("nan"), float("inf"), -float("inf")] * 10)
    assert np.isnan(opt.step(lambda: next(bad)))
    for a, b in zip(before, ps):
        assert torch.equal(a, b)
    after = _state(opt)
    n_bad = 2 * opt.n_directions if kind.startswith("es") else opt.n_directions
    assert after["nskipped"] == state["nskipped"] + n_bad
    assert after["step"] == state["step"] + 1  # the directions were used: the next step draws new ones
    _assert_same(state["mom"], after["mom"])
    _assert_same(state["adam"], after["adam"])
    opt.step(loss)
    final = [p.clone() for p in ps]
    gt.replay(init, opt.log)
    for a, b in zip(init, final):
        assert torch.equal(a, b)


def test_es_partly_non_finite_members_rank_worst():
    ps = _grid_params()
    opt = gt.ES(ps, lr=0.05, sigma=H, population=3, distribution="rademacher", seed=2)
    before = [p.clone() for p in ps]
    # members in evaluation order: (pair 0, +), (0, -), (1, +), (1, -), (2, +), (2, -)
    values = iter([float("nan"), 1.0, 2.0, float("inf"), float("nan"), -float("inf")])
    opt.step(lambda: next(values))
    assert opt.nskipped == 4
    coefs = np.asarray(opt.log["steps"][-1]["coefs"])
    # ranks: 1.0 -> 0, 2.0 -> 1, the four non-finite tie at 3.5; centered over 5
    F = np.array([[3.5, 0.0], [1.0, 3.5], [3.5, 3.5]]) / 5 - 0.5
    np.testing.assert_allclose(coefs, ((F[:, 0] - F[:, 1]) / (6 * H)).astype(np.float32), rtol=0, atol=0)
    assert coefs[0] > 0 and coefs[1] < 0 and coefs[2] == 0  # away from the non-finite side; a NaN pair: 0
    assert all(torch.isfinite(p).all() for p in ps)
    assert not all(torch.equal(a, b) for a, b in zip(before, ps))


def test_centered_ranks_ties_share_their_mean_rank():
    r = centered_ranks(np.array([3.0, np.nan, 1.0, 2.0, np.inf, -np.inf, 2.0]))
    expected = np.array([3.0, 5.0, 0.0, 1.5, 5.0, 5.0, 1.5]) / 6 - 0.5
    np.testing.assert_array_equal(r, expected)
    assert np.all(centered_ranks(np.full(4, np.nan)) == centered_ranks(np.ones(4)))


def test_es_population_error_names_population():
    with pytest.raises(ValueError, match="population"):
        gt.ES([torch.zeros(3)], population=0)
    with pytest.raises(ValueError, match="population"):
        gt.ES([torch.zeros(3)], population=-2)
