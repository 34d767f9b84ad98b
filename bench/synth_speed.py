"""Offline synth speed: `python -m tools.synth prod` against `python -c "import pulumi_aws"`.

Target (issue 2): synth <= 3 x the import floor, measured side by side in one run.
Prints the median wall time of each over interleaved runs and their ratio.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
COMMANDS = {
    "floor: import pulumi_aws": [sys.executable, "-c", "import pulumi_aws"],
    "synth prod": [sys.executable, "-m", "tools.synth", "prod"],
    "synth dev": [sys.executable, "-m", "tools.synth", "dev"],
}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():  # warm the file cache once
        timed(command)
    for _ in range(RUNS):
        for name, command in COMMANDS.items():
            samples[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["floor: import pulumi_aws"]
    for name, value in medians.items():
        print(f"{name:28s} median {value * 1000:7.0f} ms   ({value / floor:.2f} x floor)")
    ratio = medians["synth prod"] / floor
    print(f"synth prod / floor = {ratio:.2f} (target <= 3.00): {'PASS' if ratio <= 3 else 'FAIL'}")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
