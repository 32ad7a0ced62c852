"""How long the program takes to evaluate under Pulumi's mocks, beside a flat program with the same resources.

    venv/bin/python benchmarks/evaluation.py [--runs 30]

Imports are done before timing (the programs import the same SDKs); runs of the programs alternate; each
run evaluates a program from scratch (configuration loading and validation included for ours) and waits for
every registration. Prints the figures; the target is under 10 % over flat. A third program, flat plus four
empty components, separates what the Pulumi SDK charges for registering the component resources from
what our own code costs.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulumi_docker  # noqa: E402,F401 - imported before timing
import pulumi_random  # noqa: E402,F401

from components.testing import read_stack_file, render  # noqa: E402


def time_once(program: Path, config: dict[str, object]) -> float:
    gc.collect()
    start = time.perf_counter()
    deployment = render(config, program=program)
    elapsed = time.perf_counter() - start
    assert len(deployment.of_type("docker:index/container:Container")) == 2
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    config = read_stack_file(ROOT / "Pulumi.dev.yaml")
    programs = {
        "ours": (ROOT / "__main__.py", config),
        "flat": (ROOT / "benchmarks" / "flat_program.py", {}),
        "skeleton": (ROOT / "benchmarks" / "skeleton_program.py", {}),
    }
    timings: dict[str, list[float]] = {name: [] for name in programs}
    for program, program_config in programs.values():
        for _ in range(3):  # warm-up: module caches, first event loops
            time_once(program, program_config)
    # Interleave the two programs so that drift (CPU frequency, the other core's load) hits both alike.
    for _ in range(args.runs):
        for name, (program, program_config) in programs.items():
            timings[name].append(time_once(program, program_config))
    labels = {
        "ours": "this program (components + validation)",
        "flat": "flat, same resources",
        "skeleton": "flat + 4 empty components",
    }
    print(f"program evaluation under mocks, {args.runs} interleaved runs each; median / mean / min in ms:")
    for name, label in labels.items():
        values = timings[name]
        print(
            f"  {label:<40} {statistics.median(values) * 1000:6.1f} {statistics.mean(values) * 1000:6.1f} "
            f"{min(values) * 1000:6.1f}"
        )
    ours, flat, skeleton = (statistics.median(timings[name]) for name in ("ours", "flat", "skeleton"))
    print(f"  this program over flat:                      {ours / flat - 1:+6.1%}  (target: under +10%)")
    print(f"    of which registering 4 component resources: {skeleton / flat - 1:+6.1%}  (Pulumi SDK, per resource)")
    print(f"    of which our code (validation, wiring):     {ours / skeleton - 1:+6.1%}")


if __name__ == "__main__":
    main()
