"""The CPU speedrun: `convscope train speedrun`, start to finish, against one plain PyTorch epoch.

Side by side, one process at a time, interleaved seed by seed:

  speedrun         `convscope train speedrun --seed S --quiet --json` as a user runs it: the
                   whole process's wall time (Python start, imports, reading MNIST, training,
                   the test pass, writing the run directory), measured from outside
  torch-dataloader one epoch of the straightforward PyTorch chollet loop (TensorDataset +
                   DataLoader, batch 64; benchmarks/train_speed.py's worker), the epoch only

Then the recipe's ingredients, each taken away in turn (the preset's source edited, trained
as a file with the same seeds), so each one's effect on accuracy and time is measured:

  python benchmarks/speedrun.py [--seeds 5] [--no-ablation]

Results: benchmarks/results/speedrun.json and speedrun.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV, PYTHON, ROOT, cpu

from convscope.core import presets

RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "benchmarks" / ".runs"
SOURCE = presets.get("speedrun").source

# (name, what changes, edits to the preset's source, extra options)
ABLATIONS: list[tuple[str, str, list[tuple[str, str]], list[str]]] = [
    ("recipe", "the preset as it is", [], []),
    (
        "no label smoothing",
        "plain crossentropy",
        [
            (
                "keras.losses.CategoricalCrossentropy(label_smoothing=0.1)",
                '"categorical_crossentropy"',
            )
        ],
        [],
    ),
    (
        "constant rate",
        "Adam at a constant 0.001 with Keras's default betas, no one-cycle schedule",
        [("keras.optimizers.Adam(schedule, beta_1=0.7, beta_2=0.9)", '"adam"')],
        [],
    ),
    (
        "default betas",
        "the schedule kept, Adam's betas at Keras's 0.9 and 0.999",
        [
            (
                "keras.optimizers.Adam(schedule, beta_1=0.7, beta_2=0.9)",
                "keras.optimizers.Adam(schedule)",
            )
        ],
        [],
    ),
    (
        "batch 128",
        "batches of 128 (469 steps, warm-up 140)",
        [
            ("steps = 235", "steps = 469"),
            ("warmup = 70", "warmup = 140"),
            ("batch_size=256", "batch_size=128"),
        ],
        [],
    ),
    (
        "bf16 where native",
        "--precision auto (bf16 on CPUs with AVX512-BF16 or AMX)",
        [],
        ["--precision", "auto"],
    ),
]


def convscope_train(target: str, seed: int, extra: list[str]) -> dict[str, float]:
    """One `convscope train` process: its JSON result plus the wall time seen from outside."""
    command = [PYTHON, "-m", "convscope", "train", target, "--seed", str(seed), "--quiet"]
    command += ["--json", "--runs-dir", str(RUNS), *extra]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{target} seed {seed} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    return {"accuracy": result["test_accuracy"], "train_seconds": result["seconds"], "wall": wall}


def plain_epoch() -> float:
    command = [PYTHON, str(ROOT / "benchmarks" / "train_speed.py"), "--worker", "torch-dataloader"]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def edited(edits: list[tuple[str, str]], folder: Path, name: str) -> str:
    text = SOURCE
    for old, new in edits:
        if old not in text:
            raise SystemExit(f"ablation {name!r}: {old!r} is not in the preset's source")
        text = text.replace(old, new)
    path = folder / f"speedrun_{name.replace(' ', '_')}.py"
    path.write_text(text)
    return str(path)


def summary(rows: list[dict[str, float]]) -> dict[str, float]:
    acc = [r["accuracy"] for r in rows]
    return {
        "mean_accuracy": statistics.mean(acc),
        "min_accuracy": min(acc),
        "max_accuracy": max(acc),
        "median_wall": statistics.median(r["wall"] for r in rows),
        "median_train_seconds": statistics.median(r["train_seconds"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--no-ablation", action="store_true")
    args = parser.parse_args()
    seeds = range(1, args.seeds + 1)
    speedrun: list[dict[str, float]] = []
    plain: list[float] = []
    for seed in seeds:  # interleaved: noise hits both alike
        speedrun.append(convscope_train("speedrun", seed, []))
        plain.append(plain_epoch())
        print(
            f"seed {seed}: speedrun {speedrun[-1]['accuracy']:.2%} in {speedrun[-1]['wall']:.2f} s "
            f"(process); plain PyTorch epoch {plain[-1]:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    report: dict[str, object] = {
        "cpu": cpu(),
        "threads": ENV["OMP_NUM_THREADS"],
        "speedrun": {"runs": speedrun, **summary(speedrun)},
        "plain_pytorch_epoch": {"runs": plain, "median": statistics.median(plain)},
    }
    report["wall_ratio"] = statistics.median(plain) / statistics.median(r["wall"] for r in speedrun)
    ablation: dict[str, object] = {}
    if not args.no_ablation:
        with tempfile.TemporaryDirectory() as folder:
            for name, what, edits, extra in ABLATIONS:
                target = "speedrun" if not edits else edited(edits, Path(folder), name)
                rows = (
                    speedrun
                    if name == "recipe"
                    else [convscope_train(target, seed, extra) for seed in seeds]
                )
                ablation[name] = {"change": what, "runs": rows, **summary(rows)}
                s = ablation[name]
                print(
                    f"{name:20} {s['mean_accuracy']:.2%} ({s['min_accuracy']:.2%}.."  # type: ignore[index]
                    f"{s['max_accuracy']:.2%}), {s['median_wall']:.2f} s",  # type: ignore[index]
                    file=sys.stderr,
                    flush=True,
                )
    report["ablation"] = ablation
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speedrun.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "speedrun.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:  # type: ignore[type-arg]
    s, p = report["speedrun"], report["plain_pytorch_epoch"]
    lines = [
        f"CPU: {report['cpu']}, {report['threads']} threads; {len(s['runs'])} seeds.",
        "",
        "| | test accuracy, mean (min..max) | wall time (median) |",
        "|---|---|---|",
        f"| `convscope train speedrun`, whole process | {s['mean_accuracy']:.2%} "
        f"({s['min_accuracy']:.2%}..{s['max_accuracy']:.2%}) | {s['median_wall']:.2f} s "
        f"(training {s['median_train_seconds']:.2f} s) |",
        f"| one plain PyTorch chollet epoch (DataLoader, batch 64) | - | {p['median']:.2f} s |",
        "",
        f"The whole speedrun takes {1 / report['wall_ratio']:.2f} of one plain PyTorch epoch.",
    ]
    if report["ablation"]:
        lines += [
            "",
            "| change | what | test accuracy, mean (min..max) | wall time (median) |",
            "|---|---|---|---|",
        ]
        for name, a in report["ablation"].items():
            lines.append(
                f"| {name} | {a['change']} | {a['mean_accuracy']:.2%} ({a['min_accuracy']:.2%}"
                f"..{a['max_accuracy']:.2%}) | {a['median_wall']:.2f} s |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
