"""MeZO/ES edge cases found by a bug hunt: the cost of a step on a long run, ..."""

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
