"""Run every benchmark module in this folder and print its table of side-by-side ratios."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv=None):
    names = (
        argv
        if argv
        else sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    )
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n== {name} ==", flush=True)
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
