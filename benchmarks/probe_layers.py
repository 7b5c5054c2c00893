"""Linear probes at every layer of a trained chollet run: the README's probe table.

Uses the newest 5-epoch chollet run under benchmarks/.runs (train_accuracy.py makes
them; this trains one with seed 1 when there is none), then runs
`convscope experiment probe RUN` as a user would, on all 60,000 training images.

  python benchmarks/probe_layers.py [--epochs 5]

Results: benchmarks/results/probe.json and probe.md; the figure stays in the run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from common import trained_chollet

from convscope.core.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "benchmarks" / ".runs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="probe epochs")
    args = parser.parse_args()
    run = trained_chollet()
    command = [sys.executable, "-m", "convscope", "experiment", "probe", str(run)]
    code = subprocess.call([*command, "--epochs", str(args.epochs)], cwd=ROOT)
    if code == 0:
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RunDir(run).probe_json, RESULTS / "probe.json")
        from convscope.core.experiments import ProbeResults
        from convscope.present.experiments import probe_markdown

        results = ProbeResults.from_dict(json.loads((RESULTS / "probe.json").read_text()))
        (RESULTS / "probe.md").write_text(probe_markdown(results))
        print(f"results: {RESULTS / 'probe.json'}, probe.md")
    return code


if __name__ == "__main__":
    sys.exit(main())
