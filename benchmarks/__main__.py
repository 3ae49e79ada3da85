"""`python -m benchmarks [name ...] [--device DEVICE]`: run the named benchmarks (default: all)."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = [
    "conditioning",
    "weighting",
    "episodes",
    "blackbox",
    "distributed",
    "compile",
    "seeds",
    "grading",
    "homework",
    "notebooks",
    "classroom",
    "cell_limit",
    "gradescope",
    "similarity",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *BENCHMARKS],
        default=[],
        metavar="name",
        help=f"which benchmarks to run, of {BENCHMARKS} (default: all)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps (default: auto)")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        importlib.import_module(f"benchmarks.{name}").main(device=args.device)


if __name__ == "__main__":
    main()
