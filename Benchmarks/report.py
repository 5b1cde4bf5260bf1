#!/usr/bin/env python3
"""Prints a hyperfine JSON export as one table: median, spread and ratio to the first command.

The first command is ours; the ratio column says how many times ours takes compared with
each peer (below 1.00: we are faster)."""

import json
import sys


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def milliseconds(seconds):
    return f"{seconds * 1000:.3f} ms"


def main(path):
    with open(path) as f:
        results = json.load(f)["results"]
    ours = results[0]
    width = max(len(r["command"]) for r in results)
    print(f"{'command':<{width}}  {'median':>12}  {'p10 .. p90':>25}  {'runs':>5}  {'ours/this':>9}")
    for result in results:
        times = sorted(result["times"])
        spread = f"{milliseconds(percentile(times, 0.1))} .. {milliseconds(percentile(times, 0.9))}"
        ratio = ours["median"] / result["median"]
        print(f"{result['command']:<{width}}  {milliseconds(result['median']):>12}  {spread:>25}  "
              f"{len(times):>5}  {ratio:>9.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
