"""Train the same digits MLP (64-32-10) three ways and compare: backprop with Adam, MeZO (two forward passes
per step, no backward, inference memory) and OpenAI-ES (8 antithetic pairs, Adam on the ES estimate).

    PYTHONPATH=python python examples/digits_zo.py [--scale 1.0]

``--scale`` multiplies every method's number of steps (the test runs a tiny one).
"""

import argparse

import torch

from gfo_native.demo.zo import compare, format_rows


def main(scale: float = 4.0):
    torch.set_num_threads(1)  # a 2.4k-parameter model: more threads only add overhead
    rows = compare(scale)
    print(format_rows(rows))
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=4.0)
    main(p.parse_args().scale)
