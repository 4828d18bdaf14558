"""MeZO and ES steps at the memory of inference: each forward's outputs are gone before the next forward runs,
and a step's peak of tensor bytes is that of one no-grad forward (counted by torch's allocator, not RSS)."""

import weakref

import pytest

torch = pytest.importorskip("torch")

import gfo_native.torch as gt  # noqa: E402
from gfo_native.torch._memory import in_time_order, peak_bytes, running_peak  # noqa: E402

F = torch.nn.functional


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(d_in=64, hidden=256, d_out=10, batch=16):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                            torch.nn.ReLU(), torch.nn.Linear(hidden, d_out))
    g = torch.Generator().manual_seed(1)
    return m, torch.randn(batch, d_in, generator=g), torch.randint(0, d_out, (batch,), generator=g)


OPTIMIZERS = {
    "mezo": lambda ps: gt.MeZO(ps, lr=1e-3, eps=1e-3),
    "mezo-one-sided-3-directions": lambda ps: gt.MeZO(ps, lr=1e-3, eps=1e-3, two_sided=False, n_directions=3),
    "mezo-rademacher-momentum": lambda ps: gt.MeZO(ps, lr=1e-3, eps=1e-3, distribution="rademacher", momentum=0.9),
    "es": lambda ps: gt.ES(ps, lr=1e-3, sigma=1e-3, population=3),
    "es-adam": lambda ps: gt.ES(ps, lr=1e-3, sigma=1e-3, population=3, optimizer="adam"),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_each_forward_output_is_freed_before_the_next_forward(kind):
    m, X, y = _model()
    opt = OPTIMIZERS[kind](m.parameters())
    alive = []  # weak references to the previous forward's logits and loss
    calls = [0]

    def closure():
        # The step must hold nothing of the previous evaluation (loss tensor, logits, activations) by now.
        assert all(r() is None for r in alive), f"call {calls[0]}: the previous forward's output is still alive"
        alive.clear()
        assert not torch.is_grad_enabled()
        logits = m(X)
        loss = F.cross_entropy(logits, y)
        alive.extend([weakref.ref(logits), weakref.ref(loss)])
        calls[0] += 1
        return loss

    for _ in range(2):
        opt.step(closure)
    assert calls[0] == 2 * {"mezo-one-sided-3-directions": 4, "es": 6, "es-adam": 6}.get(kind, 2)
    assert all(r() is None for r in alive)


def test_running_peak_counts_allocations_in_time_order():
    assert running_peak([(0, 100), (1, 50), (2, -100), (3, 30), (4, -80)]) == 150
    assert running_peak([(0, -40), (1, 30)]) == 0  # freeing what existed before the call lowers the level
    # two threads' events at the same nanosecond: the allocation counts before the free (never an undercount)
    assert running_peak(in_time_order([(5, -100), (0, 100), (5, 100)])) == 200
    m, X, y = _model()
    with torch.no_grad():
        m(X)  # warm-up
        p = peak_bytes(lambda: m(X))
    # the two hidden activations of 16 x 256 float32 exist together in the ReLU (input and output)
    assert p.tensor >= 2 * 16 * 256 * 4


# A step allocates exactly what its forwards do (tensor bytes, allocator-counted: deterministic), one
# forward at a time; what it adds on the Python side (stream ids, the losses, the log entry) stays small.
TENSOR_SLACK = 0  # bytes
PYTHON_BOUND = 16 << 10  # bytes


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_step_peak_is_one_forward(kind):
    m, X, y = _model()
    f = lambda: F.cross_entropy(m(X), y)  # noqa: E731
    opt = OPTIMIZERS[kind](m.parameters())
    opt.step(f)  # first step: momentum buffers, ES's grads and Adam moments (parameter-sized state, documented)
    with torch.no_grad():
        f()
        fwd = peak_bytes(lambda: float(f()))
    step = peak_bytes(lambda: opt.step(f))
    assert fwd.tensor > 0
    assert step.tensor <= fwd.tensor + TENSOR_SLACK, (step.tensor, fwd.tensor)
    assert step.python <= PYTHON_BOUND, step.python
