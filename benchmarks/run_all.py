"""Run every benchmark and print one table.

    python benchmarks/run_all.py           # full sizes
    python benchmarks/run_all.py --quick   # small sizes, a smoke run
    python benchmarks/run_all.py kernel    # only modules whose name contains "kernel"
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from harness import format_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="substrings of benchmark module names to run")
    parser.add_argument("--quick", action="store_true", help="small sizes: check that the benchmarks run")
    args = parser.parse_args(argv)
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if any(s in m for s in args.only)]
    rows = []
    for name in modules:
        module = importlib.import_module(name)
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run(quick=args.quick))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
