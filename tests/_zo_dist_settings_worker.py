"""One rank of a 2-rank run whose ranks were given different settings (launched by test_zo_distributed.py).

argv: rank port out_path. For each setting in turn rank 1 changes it; both ranks must refuse at construction,
naming it ("none" changes nothing). The messages go to out_path as JSON, one per setting.
"""

import json
import os
import sys

import torch
import torch.distributed as dist

import gfo_native.torch as gt

CHANGED = {"seed": 4, "eps": 2e-3, "n_directions": 3, "lr": 0.2}


def main():
    rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = port
    dist.init_process_group("gloo", rank=rank, world_size=2)
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
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
