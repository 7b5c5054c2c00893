"""Cold start of `convscope explain` against `import torch` and against Keras 3 itself.

Each contender runs as a fresh process (a user's cold run), interleaved round by round
so that machine noise hits all of them alike; the report gives medians and ratios.

  python benchmarks/explain_startup.py [--rounds 9]

Keras 3 (torch backend) runs from its own environment, benchmarks/.envs/keras, created
on first use with `pip install torch==2.13.0 keras`: never in the project's .venv.
Results: benchmarks/results/explain_startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERAS_ENV = ROOT / "benchmarks" / ".envs" / "keras"
RESULTS = ROOT / "benchmarks" / "results" / "explain_startup.json"

# The Keras mnist_cnn.py model, built and summarised by Keras 3 itself.
KERAS_SUMMARY = """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, kernel_size=(3, 3), activation='relu'),
    layers.Conv2D(64, (3, 3), activation='relu'),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Dropout(0.25),
    layers.Flatten(),
    layers.Dense(128, activation='relu'),
    layers.Dropout(0.5),
    layers.Dense(10, activation='softmax'),
])
model.summary()
"""


def keras_python() -> Path:
    python = KERAS_ENV / "bin" / "python"
    if not python.exists():
        print("creating the Keras 3 benchmark environment in", KERAS_ENV, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(KERAS_ENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)
        subprocess.run([*pip, "keras"], check=True)
    return python


RESNET50 = ROOT / "benchmarks" / "models" / "resnet50_app.py"  # keras.applications.ResNet50


def contenders(with_keras: bool) -> dict[str, list[str]]:
    venv_python = ROOT / ".venv" / "bin" / "python"
    explain = [str(venv_python), "-m", "convscope", "explain"]
    found = {
        "python -c pass": [str(venv_python), "-c", "pass"],
        "convscope explain": [*explain, "keras-mnist-cnn"],
        "convscope explain ResNet50": [*explain, str(RESNET50)],
        "python -c 'import torch'": [str(venv_python), "-c", "import torch"],
    }
    if with_keras:
        found["Keras 3 build + summary"] = [str(keras_python()), "-c", KERAS_SUMMARY]
    return found


def time_once(command: list[str]) -> float:
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "2"}
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--without-keras", action="store_true", help="no Keras 3 contender")
    args = parser.parse_args()
    commands = contenders(not args.without_keras)
    for command in commands.values():  # warm the file cache once; not timed
        time_once(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, command in commands.items():
            times[name].append(time_once(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ours = medians["convscope explain"]
    print(f"{'contender':28} {'median s':>9} {'vs explain':>11}")
    for name, median in medians.items():
        print(f"{name:28} {median:9.3f} {median / ours:10.1f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "rounds": args.rounds,
        "median_seconds": medians,
        "ratio_to_explain": {name: m / ours for name, m in medians.items()},
        "resnet50_to_import_torch": medians["convscope explain ResNet50"]
        / medians["python -c 'import torch'"],
        "all_seconds": times,
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(RESULTS)


if __name__ == "__main__":
    main()
