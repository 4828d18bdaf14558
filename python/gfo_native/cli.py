"""The `gfo-native` command line: info, demo, minimize."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any, Callable, Sequence


def _cmd_info(args: argparse.Namespace) -> int:
    from ._info import build_info

    print(json.dumps(build_info(), indent=2))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(quick=args.quick, only=args.only)


def _cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .bench_report import run

    return run(Path(args.out), quick=args.quick, only=args.only)


def _parse_bounds(text: str, dim: int | None) -> list[tuple[float, float]]:
    """'-5,5' (with --dim) or '-5,5;-1,1;...' -> list of pairs."""
    try:
        pairs = [tuple(float(v) for v in part.split(",")) for part in text.split(";") if part.strip()]
    except ValueError:
        raise SystemExit(f"--bounds: cannot parse {text!r}; expected 'low,high' or 'l1,h1;l2,h2;...'") from None
    if not pairs or any(len(p) != 2 for p in pairs):
        raise SystemExit(f"--bounds: expected 'low,high' pairs, got {text!r}")
    if len(pairs) == 1 and dim:
        pairs = pairs * dim
    elif dim and len(pairs) != dim:
        raise SystemExit(f"--dim {dim} does not match {len(pairs)} bounds")
    return pairs  # type: ignore[return-value]


def _load_function(spec: str) -> Callable[..., Any]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not attr:
        raise SystemExit(f"expected MODULE:FUNCTION, got {spec!r} (e.g. gfo_native.functions:rastrigin)")
    sys.path.insert(0, "")
    try:
        fn: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise SystemExit(f"cannot load {spec!r}: {e}") from None
    if not callable(fn):
        raise SystemExit(f"{spec!r} is not callable")
    return fn


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _parse_options(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        options = json.loads(text)
    except json.JSONDecodeError as e:
        raise SystemExit(f"--options: not valid JSON ({e}): {text!r}") from None
    if not isinstance(options, dict):
        raise SystemExit(f"--options: expected a JSON object such as '{{\"popsize\": 64}}', got {text!r}")
    return options


def _cmd_minimize(args: argparse.Namespace) -> int:
    import time

    from .minimize import minimize

    fn = _load_function(args.function)
    bounds = _parse_bounds(args.bounds, args.dim)
    options = _parse_options(args.options)
    t0 = time.perf_counter()
    res = minimize(fn, bounds, method=args.method, budget=args.budget, seed=args.seed, vectorized=args.vectorized,
                   progress=not args.quiet, target=args.target, max_time=args.max_time, options=options)
    dt = time.perf_counter() - t0
    print(res)
    print(f"        time: {dt:.3f} s ({res.nfev / max(dt, 1e-12):,.0f} evaluations/s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .demo import SECTIONS as DEMO_SECTIONS
    from .optimizers import OPTIMIZERS

    p = argparse.ArgumentParser(prog="gfo-native", description="Native gradient-free and gradient optimization.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("info", help="print how this copy was built")
    s.set_defaults(func=_cmd_info)

    s = sub.add_parser("demo", help="a short showcase of every capability (the main job)")
    s.add_argument("--quick", action="store_true", help="smaller sizes")
    s.add_argument("--only", nargs="+", metavar="SECTION", choices=DEMO_SECTIONS,
                   help=f"run only these sections (of: {' '.join(DEMO_SECTIONS)})")
    s.set_defaults(func=_cmd_demo)

    s = sub.add_parser("bench", help="side-by-side comparisons against installed peers, with a report and plots")
    s.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    s.add_argument("--only", nargs="+", metavar="AREA", help="e.g. grad population es bo zo functions dist")
    s.add_argument("--out", default="bench-report", help="folder for report.md, tables and PNG plots")
    s.set_defaults(func=_cmd_bench)

    s = sub.add_parser("minimize", help="minimize MODULE:FUNCTION over a box")
    s.add_argument("function", help="MODULE:FUNCTION, e.g. gfo_native.functions:rastrigin")
    s.add_argument("--bounds", required=True, help="'low,high' (with --dim) or 'l1,h1;l2,h2;...'; write --bounds=-5,5 when low is negative")
    s.add_argument("--dim", type=_positive_int, default=None, help="dimension when --bounds gives one pair")
    s.add_argument("--method", default="random_search", choices=sorted(OPTIMIZERS), metavar="METHOD",
                   help=f"one of: {', '.join(sorted(OPTIMIZERS))}")
    s.add_argument("--budget", type=_positive_int, default=10_000, help="maximum evaluations")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--vectorized", action="store_true", help="the function takes an (n, d) batch")
    s.add_argument("--target", type=float, default=None)
    s.add_argument("--max-time", type=float, default=None)
    s.add_argument("--options", default=None, help="JSON dict of optimizer options, e.g. '{\"popsize\": 64}'")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_minimize)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
