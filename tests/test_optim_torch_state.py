"""gfo_native.torch drop-ins after the optimizer state is reset or replaced between steps, against torch.optim.

The fused optimizers cache raw addresses of the state tensors between steps; every way torch users change the
state must be honoured at the next step exactly as torch.optim does, and must never leave the kernel writing
to freed memory (each case allocates tensors of the state's sizes after the change, then checks them).
"""

import collections
import copy
import io

import pytest

torch = pytest.importorskip("torch")
gt = pytest.importorskip("gfo_native.torch")

CONFIGS = [
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]
# small tensors (state cut from the shared arenas) and one above _layout.STAGGER_MIN_BYTES (its own buffer)
SHAPES = [(7,), (31, 33), (1,), (20000,)]
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


class Pair:
    """The same parameters and gradients under gfo_native.torch.<name> and torch.optim.<name> (for-loop)."""

    def __init__(self, name, kw, dtype):
        self.gen = torch.Generator().manual_seed(0)
        init = [torch.randn(s, dtype=dtype, generator=self.gen) for s in SHAPES]
        self.ours = [torch.nn.Parameter(t.clone()) for t in init]
        self.theirs = [torch.nn.Parameter(t.clone()) for t in init]
        self.o = getattr(gt, name)(self.ours, **kw)
        self.r = getattr(torch.optim, name)(self.theirs, foreach=False, **kw)
        self.dtype = dtype

    def steps(self, k):
        for _ in range(k):
            for p, q in zip(self.ours, self.theirs):
                g = torch.randn(p.shape, dtype=p.dtype, generator=self.gen)
                p.grad, q.grad = g.clone(), g.clone()
            self.o.step()
            self.r.step()

    def both(self, change):
        """Apply change(optimizer, params, replacement) to both optimizers with identical replacement tensors."""
        for opt, params in ((self.o, self.ours), (self.r, self.theirs)):
            gen = torch.Generator().manual_seed(7)

            def replacement(p, key, gen=gen):
                # valid for every state slot: positive second moments, a grad_avg small enough for centering
                u = torch.rand(p.shape, dtype=p.dtype, generator=gen)
                return 0.1 * u if key == "grad_avg" else 0.5 + 0.5 * u
            change(opt, params, replacement)

    def check(self):
        tol = TOL[self.dtype]
        for i, (p, q) in enumerate(zip(self.ours, self.theirs)):
            assert rel_err(p.detach(), q.detach()) <= tol, i
            s_o, s_t = self.o.state.get(p, {}), self.r.state.get(q, {})
            assert set(s_o) == set(s_t), i
            for key, t in s_t.items():
                if key == "step":
                    assert s_o[key].item() == t.item(), i
                else:
                    assert rel_err(s_o[key], t) <= 10 * tol, (i, key)  # a state entry can be a difference of rounded terms


def _tensor_keys(opt, p):
    return sorted(k for k, v in opt.state[p].items() if isinstance(v, torch.Tensor) and k != "step")


def _reset_one(opt, params, new):
    # SGD has no step counter: its reset is a buffer set to None (restarted from the gradient, as torch does)
    for p in params[:2]:
        if isinstance(opt, (torch.optim.SGD, gt.SGD)):
            opt.state[p]["momentum_buffer"] = None
        else:
            opt.state[p]["step"] = torch.tensor(0.0)


def _replace_tensors(opt, params, new):
    for p in params:
        for key in _tensor_keys(opt, p):
            opt.state[p][key] = new(p, key)


def _plain_dict(opt, params, new):
    p = params[1]
    fresh = {key: new(p, key) for key in _tensor_keys(opt, p)}
    if "step" in opt.state[p]:
        fresh["step"] = torch.tensor(2.0)
    opt.state[p] = fresh


def _pop_and_setdefault(opt, params, new):
    opt.state.pop(params[0])
    opt.state.setdefault(params[2], {}).clear()
    opt.state[params[3]].update({k: new(params[3], k) for k in _tensor_keys(opt, params[3])})


MUTATIONS = {
    "reassign": lambda opt, params, new: setattr(opt, "state", collections.defaultdict(dict)),
    "clear": lambda opt, params, new: opt.state.clear(),
    "del": lambda opt, params, new: [opt.state.__delitem__(p) for p in params[1::2]],
    "empty_dict": lambda opt, params, new: opt.state.__setitem__(params[3], {}),
    "reset_step_or_buffer": _reset_one,
    "replace_tensors": _replace_tensors,
    "plain_dict": _plain_dict,
    "pop_setdefault_update": _pop_and_setdefault,
}


def _junk(dtype):
    """Allocations of the state's sizes: they reuse memory a stale pointer table would still write to."""
    return [torch.full(s, 7.0, dtype=dtype) for s in SHAPES for _ in range(20)]


def _junk_intact(junk):
    return all(bool((t == 7.0).all()) for t in junk)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("name,kw", CONFIGS)
def test_state_changes_between_steps_match_torch(name, kw, mutation, dtype):
    pair = Pair(name, kw, dtype)
    pair.steps(3)
    pair.both(MUTATIONS[mutation])
    junk = _junk(dtype)
    pair.steps(1)
    assert _junk_intact(junk)
    pair.check()
    pair.steps(2)
    pair.check()
    # a second change of the same kind after the tables were rebuilt (and state written by the step)
    pair.both(MUTATIONS[mutation])
    pair.steps(2)
    pair.check()


@pytest.mark.parametrize("name,kw", CONFIGS)
def test_load_state_dict_between_steps_matches_torch(name, kw):
    pair = Pair(name, kw, torch.float64)
    pair.steps(2)
    snapshot = copy.deepcopy(pair.r.state_dict())
    pair.steps(3)
    # load_state_dict keeps tensors that need no cast: each optimizer gets its own copy
    pair.o.load_state_dict(copy.deepcopy(snapshot))
    pair.r.load_state_dict(copy.deepcopy(snapshot))
    junk = _junk(torch.float64)
    pair.steps(3)
    assert _junk_intact(junk)
    pair.check()
    # and ours saved, reloaded into ours after more steps
    mine = copy.deepcopy(pair.o.state_dict())
    pair.steps(1)
    pair.o.load_state_dict(copy.deepcopy(mine))
    pair.r.load_state_dict(copy.deepcopy(mine))
    pair.steps(2)
    pair.check()


def test_repro_reset_then_allocations_then_step():
    # the reported sequence: Adam steps, opt.state.clear() (or a new defaultdict), allocations, more steps
    for reset in ("clear", "reassign"):
        torch.manual_seed(0)
        p = torch.randn(1000, requires_grad=True)
        q = p.detach().clone().requires_grad_()
        ref, opt = torch.optim.Adam([q], lr=1e-3, foreach=False), gt.Adam([p], lr=1e-3)
        junk = []
        for t in range(6):
            g = torch.randn(1000)
            p.grad, q.grad = g.clone(), g.clone()
            opt.step()
            ref.step()
            if t == 2:
                if reset == "clear":
                    opt.state.clear()
                    ref.state.clear()
                else:
                    opt.state = collections.defaultdict(dict)
                    ref.state = collections.defaultdict(dict)
                junk = [torch.full((1000,), 7.0) for _ in range(50)]
        assert _junk_intact(junk)
        assert rel_err(p.detach(), q.detach()) <= 1e-6 and not p.isnan().any()
        assert opt.state[p]["step"].item() == ref.state[q]["step"].item() == 3
        assert len(opt.state) == 1


@pytest.mark.parametrize("name,key", [("Adam", "exp_avg"), ("AdamW", "exp_avg_sq"), ("RMSprop", "square_avg"),
                                      ("Adagrad", "sum"), ("Adam", "step")])
def test_state_torch_cannot_use_is_a_clear_error(name, key):
    pair = Pair(name, dict(lr=0.01), torch.float32)
    pair.steps(2)
    del pair.o.state[pair.ours[1]][key]
    del pair.r.state[pair.theirs[1]][key]
    with pytest.raises(KeyError):
        pair.r.step()
    with pytest.raises(KeyError, match=rf"params\[1\]: optimizer state has no '{key}'"):
        pair.o.step()
    pair.o.state[pair.ours[1]][key] = None
    with pytest.raises(TypeError, match=rf"params\[1\]: optimizer state\['{key}'\]: expected a tensor"):
        pair.o.step()
    pair.o.state[pair.ours[1]].clear()  # an empty dict is initialised afresh: stepping works again
    pair.o.step()
    assert pair.o.state[pair.ours[1]]["step"].item() == 1


def test_option_needing_new_state_after_steps_is_an_error_as_in_torch():
    pair = Pair("Adam", dict(lr=0.01), torch.float32)
    pair.steps(1)
    pair.o.param_groups[0]["amsgrad"] = pair.r.param_groups[0]["amsgrad"] = True
    with pytest.raises(KeyError):
        pair.r.step()
    with pytest.raises(KeyError, match="max_exp_avg_sq"):
        pair.o.step()


def test_writes_that_bypass_tracking_never_reach_freed_memory():
    # dict.clear on opt.state and .data on a state tensor are not seen by the step: it goes on with the old
    # state, whose memory the cached tables keep alive; invalidate_cache() then makes it use the new state
    pair = Pair("Adam", dict(lr=0.01), torch.float32)
    pair.steps(2)
    dict.clear(pair.o.state)
    junk = _junk(torch.float32)
    pair.o.step()
    assert _junk_intact(junk) and all(bool(p.isfinite().all()) for p in pair.ours)
    pair.o.invalidate_cache()
    pair.o.step()
    assert all(pair.o.state[p]["step"].item() == 1 for p in pair.ours)

    pair = Pair("Adam", dict(lr=0.01), torch.float64)
    pair.steps(2)
    for opt, params in ((pair.o, pair.ours), (pair.r, pair.theirs)):
        opt.state[params[3]]["exp_avg"].data = torch.zeros(params[3].shape, dtype=torch.float64)
    pair.o.invalidate_cache()  # after it, the swapped memory is used as torch uses it
    pair.steps(2)
    pair.check()
    pair.o.state[pair.ours[3]]["exp_avg"].data = torch.zeros(pair.ours[3].shape, dtype=torch.float64)
    junk = _junk(torch.float64)
    pair.o.step()  # without it, the old memory (kept alive by the table) is updated
    assert _junk_intact(junk) and all(bool(p.isfinite().all()) for p in pair.ours)


def test_state_dict_holds_plain_dicts_and_loads_with_weights_only():
    pair = Pair("AdamW", dict(lr=0.01, amsgrad=True), torch.float32)
    pair.steps(2)
    sd = pair.o.state_dict()
    assert all(type(v) is dict for v in sd["state"].values())
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    pair.r.load_state_dict(torch.load(buf, weights_only=True))
    pair.steps(2)
    pair.check()


def test_deepcopy_of_the_optimizer_tracks_its_own_state():
    pair = Pair("RMSprop", dict(lr=0.01, momentum=0.5), torch.float64)
    pair.steps(2)
    o2, r2 = copy.deepcopy(pair.o), copy.deepcopy(pair.r)
    ps, qs = o2.param_groups[0]["params"], r2.param_groups[0]["params"]
    for opt, params in ((o2, ps), (r2, qs)):
        opt.state[params[0]].clear()
    gen = torch.Generator().manual_seed(3)
    for _ in range(3):
        for p, q in zip(ps, qs):
            g = torch.randn(p.shape, dtype=p.dtype, generator=gen)
            p.grad, q.grad = g.clone(), g.clone()
        o2.step()
        r2.step()
    for p, q in zip(ps, qs):
        assert rel_err(p.detach(), q.detach()) <= 1e-12
    assert o2.state[ps[0]]["step"].item() == 3 and o2.state[ps[1]]["step"].item() == 5
    pair.steps(1)  # the original is unaffected by its copy's reset
    pair.check()
