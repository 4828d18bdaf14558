"""One process of the 2-rank seed-distributed runs (launched by test_zo_distributed.py).

argv: rank world_size port kind out_path.
- kind "mezo", "es" or "mezo-channels-last" (a conv layer in channels_last memory): a short training run; world_size 1 is the single-process run that evaluates the same
  directions on the same data shards (direction d on shard d % 2). Parameters and losses go to out_path.
- kind "failing": a run whose closure raises on rank 1 in its second step; parameters, log and what each
  rank caught go to out_path.
- kind "settings": for each setting in turn rank 1 changes it; both ranks must refuse at construction, naming
  it ("none" changes nothing). The messages go to out_path as JSON, one per setting.
"""

import json
import os
import sys

import torch
import torch.distributed as dist

import gfo_native.torch as gt


def main():
    rank, world, port, kind, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    torch.set_num_threads(1)  # identical losses need identical reduction orders in every process
    distributed = world > 1
    if distributed:
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = port
        dist.init_process_group("gloo", rank=rank, world_size=world)
    if kind == "settings":
        settings(rank, out)
    elif kind == "failing":
        failing(rank, out)
    else:
        train(kind, distributed, out)
    if distributed:
        # Every rank reaches here before any tears down: a rank that left while the other still talked to the
        # store aborted now and then ("terminate called without an active exception" from gloo's threads).
        dist.barrier()
        dist.destroy_process_group()
    # Leave without interpreter finalisation: on the CI machine a worker aborted now and then while exiting
    # ("terminate called without an active exception", torch's C++ teardown), after its results were saved.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


CHANGED = {"seed": 4, "eps": 2e-3, "n_directions": 3, "lr": 0.2}


def settings(rank, out):
    p = torch.nn.Parameter(torch.zeros(5))
    messages = {}
    for key in list(CHANGED) + ["none"]:
        kw = dict(lr=0.1, eps=1e-3, n_directions=2, seed=3)
        if rank == 1 and key in CHANGED:
            kw[key] = CHANGED[key]
        try:
            gt.MeZO([p], distributed=True, **kw)
            messages[key] = "accepted"
        except ValueError as e:
            messages[key] = str(e)
    with open(out, "w") as f:
        json.dump(messages, f)


def failing(rank, out):
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)
    opt = gt.MeZO(model.parameters(), lr=1e-2, eps=1e-3, n_directions=4, seed=7, distributed=True)
    X = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
    caught = []
    for step in range(4):
        def closure():
            if step == 1 and rank == 1 and opt.current_direction == 3:
                raise ValueError("boom")
            return model(X).square().mean()
        try:
            opt.step(closure)
            caught.append(None)
        except Exception as e:  # noqa: BLE001
            caught.append(f"{type(e).__name__}: {e}")
    torch.save({"params": [p.detach().clone() for p in model.parameters()], "log": opt.log, "caught": caught}, out)


def train(kind, distributed, out):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(64, 8, generator=g), torch.randint(0, 3, (64,), generator=g)
    if kind == "mezo-channels-last":  # a conv layer in channels_last memory: z keyed by memory position
        model = torch.nn.Sequential(torch.nn.Unflatten(1, (2, 2, 2)), torch.nn.Conv2d(2, 4, 2), torch.nn.Flatten(),
                                    torch.nn.Linear(4, 3)).to(memory_format=torch.channels_last)
        assert not model[1].weight.is_contiguous()
    shards = [(X[:32], y[:32]), (X[32:], y[32:])]
    if kind.startswith("mezo"):
        opt = gt.MeZO(model.parameters(), lr=1e-2, eps=1e-3, n_directions=4, momentum=0.9, seed=7,
                      distributed=distributed)
    else:
        opt = gt.ES(model.parameters(), lr=1e-2, sigma=1e-2, population=5, optimizer="adam", seed=7,
                    distributed=distributed)

    def closure():
        xs, ys = shards[opt.current_direction % 2]
        return torch.nn.functional.cross_entropy(model(xs), ys)

    init = [p.detach().clone() for p in model.parameters()]
    losses = [opt.step(closure) for _ in range(5)]
    torch.save({"params": [p.detach().clone() for p in model.parameters()], "losses": losses, "init": init}, out)


if __name__ == "__main__":
    main()
