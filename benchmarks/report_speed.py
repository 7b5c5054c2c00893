"""How long `convscope report` takes on a trained chollet run (the issue asks for < 10 s).

Each command runs as a fresh process, as a user runs it, interleaved round by round so
that machine noise hits all alike; medians and ratios are reported. Beside the report:
`convscope show` (the same figures as PNG files), `convscope evaluate` (the same model,
data and full test-set pass, no figures) and a bare `import torch`, so the ratios say
where the time goes. One more process times the report's stages from the inside.

  python benchmarks/report_speed.py [--rounds 5] [--run RUN]

Without --run it uses the newest full chollet run under benchmarks/.runs (5 epochs on
all 60,000 images, as train_accuracy.py makes them), training one if there is none.
Results: benchmarks/results/report_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convscope.core.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "benchmarks" / ".runs"
RESULTS = ROOT / "benchmarks" / "results" / "report_speed.json"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LIMIT_S = 10.0

STAGES = """
import sys, time, json
from pathlib import Path
t0 = time.perf_counter()
import torch, matplotlib, jinja2
from convscope.present import figures, report
from convscope.runtime.subject import open_run
from convscope.runtime.view import build_view
t1 = time.perf_counter()
view = build_view(open_run(Path(sys.argv[1])), "0")
t2 = time.perf_counter()
found, times = [], {}
for drawer in figures.drawers(view, None):
    start = time.perf_counter()
    found.append(drawer.drawn())
    times[drawer.key] = time.perf_counter() - start
t3 = time.perf_counter()
html = report.render_html(view, found)
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "view (weights, data, test set, activations)": t2 - t1,
                  "figures": t3 - t2, "html": t4 - t3, "per_figure": times}))
"""


def full_chollet_run() -> Path:
    for run in sorted(RUNS.glob("*-chollet"), reverse=True):
        settings = RunDir(run).raw_settings()
        if (
            RunDir(run).weights.exists()
            and settings["training"]["epochs"] == 5
            and not settings.get("train_images")
            and settings["precision"] == "fp32"
        ):
            return run
    print("training chollet for 5 epochs into", RUNS, file=sys.stderr)
    out = subprocess.run(
        [PYTHON, "-m", "convscope", "train", "chollet", "--seed", "1", "--quiet", "--json",
         "--runs-dir", str(RUNS)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return Path(json.loads(out.stdout)["run_dir"])


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--run", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("CONVSCOPE_DATA", str(ROOT.parent / "shared" / "datasets"))
    run = args.run or full_chollet_run()
    scratch = Path(tempfile.mkdtemp(prefix="report-speed-"))
    cs = [PYTHON, "-m", "convscope"]
    contenders = {
        "report": [*cs, "report", str(run), "--output", str(scratch / "report.html")],
        "show": [*cs, "show", str(run), "--output", str(scratch / "figures")],
        "evaluate": [*cs, "evaluate", str(run)],
        "import torch": [PYTHON, "-c", "import torch"],
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(args.rounds):
        for name, argv in contenders.items():
            times[name].append(timed(argv))
        print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr)
    medians = {name: statistics.median(t) for name, t in times.items()}
    stages = json.loads(
        subprocess.run(
            [PYTHON, "-c", STAGES, str(run)], check=True, capture_output=True, text=True
        ).stdout
    )
    result = {
        "run": str(run.relative_to(ROOT) if run.is_relative_to(ROOT) else run),
        "rounds": args.rounds,
        "median_s": medians,
        "all_s": times,
        "report_over_evaluate": medians["report"] / medians["evaluate"],
        "report_over_import_torch": medians["report"] / medians["import torch"],
        "report_under_limit": medians["report"] < LIMIT_S and max(times["report"]) < LIMIT_S,
        "report_bytes": (scratch / "report.html").stat().st_size,
        "stages_s": stages,
        "cpu_threads": os.cpu_count(),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for name, m in medians.items():
        print(
            f"{name:>14}: median {m:5.2f} s "
            f"(min {min(times[name]):.2f}, max {max(times[name]):.2f})"
        )
    print(
        f"report / evaluate = {result['report_over_evaluate']:.2f}x; "
        f"under {LIMIT_S:.0f} s in every round: {result['report_under_limit']}"
    )
    print("stages:", json.dumps(stages, indent=1))


if __name__ == "__main__":
    main()
