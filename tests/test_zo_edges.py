"""MeZO/ES edge cases found by a bug hunt: a step's cost on a long run, the parameters' dtype as part of the
run, settings given where they would be ignored (group keys, process_group), values that would write inf or
NaN into the weights (a huge finite coefficient, eps/sigma outside float32's range, a NaN lr set mid-run),
and the optimizer object copied or pickled."""

import pytest

torch = pytest.importorskip("torch")

import gfo_native.torch as gt  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _quadratic(ps):
    return lambda: sum(((p.double() - 0.3) ** 2).sum() for p in ps)


class _Sealed(dict):
    """A logged step record that fails the test when read."""

    def _read(self, *args, **kwargs):
        raise AssertionError("a step read an earlier record of the log")

    get = __getitem__ = __iter__ = __contains__ = keys = items = values = _read


@pytest.mark.parametrize("make", [
    lambda ps: gt.MeZO(ps, lr=0.01, n_directions=2, momentum=0.5),
    lambda ps: gt.ES(ps, lr=0.01, population=2, optimizer="adam"),
])
def test_a_step_reads_no_earlier_log_record(make):
    """A step's work must not grow with the length of the run (MeZO runs take 10^4..10^5 steps): the step
    used to scan the whole log, so that step 40000 of a small model cost 13x step 1000."""
    ps = [torch.nn.Parameter(torch.linspace(-1, 1, 11)), torch.nn.Parameter(torch.zeros(3))]
    opt = make(ps)
    for _ in range(3):
        opt.step(_quadratic(ps))
    opt._steps_log[:-1] = [_Sealed(st) for st in opt._steps_log[:-1]]
    for _ in range(2):
        opt.step(_quadratic(ps))
    assert len(opt._steps_log) == 5


# -- the parameters' dtype is part of the run ------------------------------------------------------------------

def _bf16_run(steps=2):
    ps = [torch.nn.Parameter(torch.linspace(-1, 1, 37).to(torch.bfloat16)), torch.nn.Parameter(torch.zeros(5))]
    init = [p.detach().clone() for p in ps]
    opt = gt.MeZO(ps, lr=0.05, eps=1e-2, n_directions=2, seed=4)
    for _ in range(steps):
        opt.step(_quadratic(ps))
    return init, ps, opt


def test_replay_refuses_tensors_of_another_dtype():
    """Every perturbation and update rounds to the parameter's dtype: a bfloat16 run replayed on float32 copies
    of its initial weights used to end at other weights, silently."""
    init, ps, opt = _bf16_run()
    as_f32 = [p.float() for p in init]
    with pytest.raises(ValueError, match=r"params\[0\]: float32, but the log's run had tensor 0 in bfloat16"):
        gt.replay(as_f32, opt.log)
    assert torch.equal(as_f32[0], init[0].float())  # refused before anything moved
    gt.replay(init, opt.log)
    assert all(torch.equal(a, b.detach()) for a, b in zip(init, ps))


def test_resume_and_step_refuse_a_tensor_whose_dtype_changed():
    init, ps, opt = _bf16_run()
    sd = opt.state_dict()
    fresh = [torch.nn.Parameter(p.detach().float()) for p in ps]
    with pytest.raises(ValueError, match=r"params\[0\]: float32, but the state_dict's run had tensor 0 in bfloat16"):
        gt.MeZO(fresh, lr=0.05, eps=1e-2, n_directions=2, seed=4).load_state_dict(sd)
    ps[1].data = ps[1].data.to(torch.bfloat16)  # what model.to(torch.bfloat16) does to a parameter
    before = [p.detach().clone() for p in ps]
    with pytest.raises(ValueError, match=r"params\[1\]: bfloat16, but this optimizer's run had tensor 1 in float32"):
        opt.step(_quadratic(ps))
    assert all(torch.equal(a, b.detach()) for a, b in zip(before, ps))
    # a dtype chosen before the first step is the run's
    q = torch.nn.Parameter(torch.zeros(4))
    opt = gt.MeZO([q], lr=0.05)
    q.data = q.data.to(torch.bfloat16)
    opt.step(_quadratic([q]))
    assert opt.log["dtypes"] == ["bfloat16"]


# -- arguments --------------------------------------------------------------------------------------------------

def test_a_closure_that_is_not_callable_is_named():
    p = torch.nn.Parameter(torch.zeros(3))
    for opt in (gt.MeZO([p], lr=0.1), gt.ES([p], lr=0.1)):
        with pytest.raises(TypeError, match="closure: expected a callable that returns the loss, got float"):
            opt.step(0.5)
        assert torch.equal(p.detach(), torch.zeros(3)) and opt.log["steps"] == []


@pytest.mark.parametrize("make, key", [
    (lambda groups: gt.MeZO(groups, lr=0.1, momentum=0.9), "momentum"),
    (lambda groups: gt.MeZO(groups, lr=0.1), "eps"),
    (lambda groups: gt.ES(groups, lr=0.1), "sigma"),
    (lambda groups: gt.ES(groups, lr=0.1, optimizer="adam"), "betas"),
])
def test_a_group_setting_the_optimizer_takes_only_once_is_refused(make, key):
    """MeZO's momentum/eps and ES's sigma/Adam constants apply to the whole optimizer: a group giving its own
    (as torch.optim.SGD takes momentum per group, e.g. none for the biases) used to be ignored, silently."""
    w, b = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match=rf"param_groups\[1\]: '{key}' is a setting of the whole optimizer"):
        make([{"params": [w]}, {"params": [b], key: 0.0}])
    opt = make([{"params": [w]}])
    with pytest.raises(ValueError, match=rf"param_groups\[1\]: '{key}' is a setting of the whole optimizer"):
        opt.add_param_group({"params": [b], key: 0.0})
    assert len(opt.param_groups) == 1
    make([{"params": [w], "name": "weights"}, {"params": [b], "initial_lr": 0.1}])  # other keys stay free


# -- a finite loss difference too large for the float32 update -----------------------------------------------

@pytest.mark.parametrize("distribution, skipped", [("gaussian", 1), ("rademacher", 0)])
def test_a_coefficient_whose_update_would_overflow_float32_is_skipped(distribution, skipped):
    """A direction whose losses differ by 2e35 at eps = 1e-3 has the coefficient 1e38: finite in float32, but
    1e38 * z overflows for a Gaussian |z| > 3.4, which used to write inf into those weights (uncounted). With
    |z| <= 6 it is skipped like a non-finite one; Rademacher z (|z| = 1) keeps it."""
    p = torch.nn.Parameter(torch.zeros(20_000))
    opt = gt.MeZO([p], lr=1e-6, eps=1e-3, distribution=distribution, seed=1)
    calls = [0]

    def closure():  # two-sided: +eps z, then -eps z
        calls[0] += 1
        return 1e35 if calls[0] % 2 else -1e35
    opt.step(closure)
    assert torch.isfinite(p).all()
    assert opt.nskipped == skipped
    assert ("coefs" in opt.log["steps"][-1]) == (skipped == 0)


@pytest.mark.parametrize("make, name", [(lambda ps, v: gt.MeZO(ps, lr=0.1, eps=v), "eps"),
                                        (lambda ps, v: gt.ES(ps, lr=0.1, sigma=v), "sigma")])
def test_a_perturbation_scale_outside_float32s_range_is_refused(make, name):
    """The kernel perturbs by float32(h) * z: h = 1e38 wrote inf into the weights (6e38 overflows), and a
    subnormal h (1e-40) perturbs by a rounded or zero amount while the coefficient divides by h itself."""
    p = torch.nn.Parameter(torch.zeros(20_000))
    for bad in (1e38, 1e-40):
        with pytest.raises(ValueError, match=rf"{name}: expected a value in \[1.1754.*e-38, 2.8.*e\+37\]"):
            make([p], bad)
    make([p], 1e37).step(lambda: float(p.sum()))
    assert torch.isfinite(p).all()


@pytest.mark.parametrize("kind", ["mezo", "es"])
@pytest.mark.parametrize("key, value, match", [
    ("lr", float("nan"), r"param_groups\[1\]\['lr'\]: expected a finite number"),
    ("lr", -0.1, r"param_groups\[1\]\['lr'\]: expected a value >= 0"),
    ("weight_decay", float("inf"), r"param_groups\[1\]\['weight_decay'\]: expected a finite number"),
])
def test_a_group_value_made_invalid_mid_run_is_refused_before_anything_moves(kind, key, value, match):
    """The constructor checks lr and weight_decay, but a step reads them anew (a scheduler may change them): a
    NaN lr set mid-run used to write NaN into every weight of the group, and the log then held NaN."""
    w, b = torch.nn.Parameter(torch.linspace(-1, 1, 7)), torch.nn.Parameter(torch.zeros(3))
    make = gt.MeZO if kind == "mezo" else gt.ES
    opt = make([{"params": [w]}, {"params": [b]}], lr=0.1, seed=2)
    opt.step(_quadratic([w, b]))
    before, nlog = [w.detach().clone(), b.detach().clone()], len(opt.log["steps"])
    opt.param_groups[1][key] = value
    with pytest.raises(ValueError, match=match):
        opt.step(_quadratic([w, b]))
    assert torch.equal(w.detach(), before[0]) and torch.equal(b.detach(), before[1])
    assert len(opt.log["steps"]) == nlog


# -- the optimizer object copied or pickled ---------------------------------------------------------------------

@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
@pytest.mark.parametrize("make", [
    lambda ps: gt.MeZO(ps, lr=0.05, n_directions=2, momentum=0.9, seed=3),
    lambda ps: gt.ES(ps, lr=0.05, population=2, optimizer="adam", seed=4),
])
def test_a_copied_or_pickled_optimizer_continues_the_run(make, how):
    """copy.deepcopy(opt), torch.save(opt) / pickle: torch.optim.Optimizer keeps only defaults, state and
    param_groups, where torch's optimizers hold everything; MeZO/ES lost their run (seed, eps, step, log) and
    failed at the next step with an AttributeError."""
    import copy
    import pickle

    ps = [torch.nn.Parameter(torch.linspace(-1, 1, 11)), torch.nn.Parameter(torch.zeros(3))]
    opt = make(ps)
    opt.step(_quadratic(ps))
    twin = copy.deepcopy(opt) if how == "deepcopy" else pickle.loads(pickle.dumps(opt))
    qs = twin.param_groups[0]["params"]
    assert all(q is not p and torch.equal(q, p) for q, p in zip(qs, ps))
    for _ in range(2):
        opt.step(_quadratic(ps))
        twin.step(_quadratic(qs))
    assert all(torch.equal(q.detach(), p.detach()) for q, p in zip(qs, ps))
    assert twin.log == opt.log and twin.nskipped == opt.nskipped


@pytest.mark.parametrize("make", [lambda ps, g: gt.MeZO(ps, lr=0.1, process_group=g),
                                  lambda ps, g: gt.ES(ps, lr=0.1, process_group=g)])
def test_a_process_group_without_distributed_is_refused(make):
    """A process group given without distributed=True used to be ignored: every rank then evaluated every
    direction on its own data and the ranks' parameters drifted apart, silently."""
    with pytest.raises(ValueError, match="process_group: given without distributed=True"):
        make([torch.nn.Parameter(torch.zeros(3))], object())


@pytest.mark.parametrize("kind, name", [("mezo", "eps"), ("es", "sigma")])
def test_eps_or_sigma_changed_between_steps_is_checked(kind, name):
    """opt.eps / opt.sigma are read at each step (a schedule may change them; each step logs its own): 1e39
    set between steps became float32 inf in the kernel and wrote inf into every weight."""
    p = torch.nn.Parameter(torch.linspace(-1, 1, 9))
    opt = (gt.MeZO if kind == "mezo" else gt.ES)([p], lr=0.1, seed=1)
    setattr(opt, name, 1e39)
    with pytest.raises(ValueError, match=rf"{name}: expected a value in"):
        opt.step(_quadratic([p]))
    assert torch.equal(p.detach(), torch.linspace(-1, 1, 9)) and opt.log["steps"] == []
    setattr(opt, name, 0.02)
    opt.step(_quadratic([p]))
    assert opt.log["steps"][-1]["h"] == 0.02


# -- replay of a damaged log -------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage, error, match", [
    (lambda log: log.update(distribution="normal"), ValueError, r"log\['distribution'\]: expected one of"),
    (lambda log: log.update(n_directions=0), ValueError, r"log\['n_directions'\]: expected a positive integer"),
    (lambda log: log.update(two_sided="no"), TypeError, r"log\['two_sided'\]: expected True or False"),
    (lambda log: log.update(seed=-1), ValueError, r"log\['seed'\]: expected a non-negative integer"),
    (lambda log: log.update(steps=None), TypeError, r"log\['steps'\]: expected a list"),
    (lambda log: log["steps"][1].update(coefs=[0.5]), ValueError, r"log\['steps'\]\[1\]: 1 coefficients"),
    (lambda log: log["steps"][1].pop("h"), ValueError, r"log\['steps'\]\[1\]: missing 'h'"),
])
def test_replay_refuses_a_damaged_log_before_anything_moves(damage, error, match):
    """A log edited or cut by hand (a JSON file) used to fail with a KeyError, a pybind11 signature dump, or
    after the steps before the damaged one had already moved the weights."""
    ps = [torch.nn.Parameter(torch.linspace(-1, 1, 9))]
    init = [p.detach().clone() for p in ps]
    opt = gt.MeZO(ps, lr=0.1, n_directions=2, seed=1)
    for _ in range(2):
        opt.step(_quadratic(ps))
    log = opt.log
    damage(log)
    target = [t.clone() for t in init]
    with pytest.raises(error, match=match):
        gt.replay(target, log)
    assert torch.equal(target[0], init[0])
