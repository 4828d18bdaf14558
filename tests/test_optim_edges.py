"""gfo_native.optim (NumPy) edge cases: schedules driven by NumPy integers, as a training loop's counters are."""

import numpy as np
import pytest

from gfo_native.optim import schedules as S


@pytest.mark.parametrize("make", [lambda n: S.step(0.1, n), lambda n: S.cosine(0.1, n), lambda n: S.linear(0.1, n),
                                  lambda n: S.warmup_cosine(0.1, 1, n + 1)])
def test_schedules_take_numpy_integers(make):
    # np.int64 is an integer to every NumPy user (np.arange, a counter kept in an array); only bools, floats
    # and negatives are refused
    for n in (np.int64(4), np.int32(4)):
        sched = make(n)
        assert sched(np.int64(3)) == make(4)(3)
        assert isinstance(sched(np.uint8(2)), float)
    with pytest.raises(ValueError, match="step"):
        make(4)(np.int64(-1))
    with pytest.raises(ValueError, match="step"):
        make(4)(np.float64(2.0))
    with pytest.raises(ValueError, match="step"):
        make(4)(True)


@pytest.mark.parametrize("cls,saved_kw,other_kw", [
    ("SGD", dict(momentum=0.9, dampening=0.2, weight_decay=0.01, maximize=True), dict(momentum=0.5)),
    ("SGD", dict(momentum=0.9, nesterov=True), dict(momentum=0.9)),
    ("Adagrad", dict(lr_decay=0.1, weight_decay=0.01, eps=1e-6), dict()),
    ("RMSprop", dict(alpha=0.9, centered=True, momentum=0.5, eps=1e-6), dict(momentum=0.1)),
    ("Adam", dict(betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1, eps=1e-6), dict()),
    ("AdamW", dict(betas=(0.5, 0.9), weight_decay=0.3, maximize=True), dict(weight_decay=0.0)),
])
def test_load_state_dict_restores_the_saved_hyperparameters(cls, saved_kw, other_kw):
    # state_dict() saves the hyperparameters with the state ("save and restore everything", as torch.optim's
    # param_groups do); an optimizer built with other values and loaded continues as the saved one would
    import gfo_native as gn

    r = np.random.default_rng(0)
    init = [r.standard_normal(5), r.standard_normal((2, 3)).astype(np.float32)]
    grads = [[r.standard_normal(5), r.standard_normal((2, 3)).astype(np.float32)] for _ in range(6)]
    Opt = getattr(gn.optim, cls)
    ref = Opt([a.copy() for a in init], lr=0.05, **saved_kw)
    for g in grads:
        ref.step(g)
    a = Opt([x.copy() for x in init], lr=0.05, **saved_kw)
    for g in grads[:3]:
        a.step(g)
    b = Opt([x.copy() for x in a.params], lr=0.05, **other_kw)
    b.load_state_dict(a.state_dict())
    assert b.hyperparameters() == ref.hyperparameters()
    for g in grads[3:]:
        b.step(g)
    for x, y in zip(b.params, ref.params):
        np.testing.assert_array_equal(x, y)


def test_load_state_dict_checks_the_saved_hyperparameters():
    import gfo_native as gn

    opt = gn.optim.Adam([np.zeros(3)], lr=0.1)
    sd = opt.state_dict()
    sd["hyperparameters"]["betas"] = (1.5, 0.9)
    with pytest.raises(ValueError, match="betas"):
        opt.load_state_dict(sd)
    assert opt.betas == (0.9, 0.999)
