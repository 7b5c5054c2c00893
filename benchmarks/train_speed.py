"""Training speed of `chollet` on MNIST at batch 64: convscope against the alternatives.

Contenders, each in a fresh process, run one after another (never side by side) and
interleaved round by round, so machine noise hits all of them alike:

  tf.keras         TensorFlow 2.21's Keras (Keras 3, TensorFlow backend), model.fit
  keras3-torch     Keras 3 with KERAS_BACKEND=torch, model.fit
  torch-dataloader a straightforward PyTorch loop: TensorDataset + DataLoader(shuffle=True)
  torch-tensor     the same loop with the data as one tensor and channels_last
  torch-tuned      torch-tensor plus convscope's malloc tuning (runtime/allocator.py):
                   shows how much of convscope's lead is that one setting
  convscope        convscope's trainer, fp32 (the default)
  convscope-bf16   convscope's trainer with --precision bf16 (autocast)

Each contender trains one warm-up epoch's first 100 batches (not timed: tracing, caches),
then one full timed epoch of 938 batches, without validation. The report gives the median
seconds per epoch, every ratio, and the fraction of the machine's fp32 matrix-multiply
peak (torch.mm of 4096x4096, measured here with the same threads) that training reaches.

  python benchmarks/train_speed.py [--rounds 3]

Comparison frameworks live in their own environments (benchmarks/.envs/tf with
`pip install tensorflow-cpu`, benchmarks/.envs/keras with `pip install torch==2.13.0
keras`), never in the project's .venv. Results: benchmarks/results/train_speed.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "benchmarks" / ".envs"
RESULTS = ROOT / "benchmarks" / "results" / "train_speed.json"
BATCH, WARMUP_STEPS = 64, 100


def mnist() -> tuple[object, object]:
    """Training images (60000, 28, 28, 1) float32 in [0, 1] and labels, read with numpy only."""
    import numpy as np

    folder = Path(os.environ.get("CONVSCOPE_DATA", ROOT.parent / "shared" / "datasets")) / "mnist"
    with gzip.open(folder / "train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(folder / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return (images / 255.0).astype(np.float32), labels


# ---- workers: each prints one JSON line {"seconds": epoch seconds, "steps": ...} ----

KERAS_MODEL = """
import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.Flatten(),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""


def worker_keras() -> dict[str, float]:
    import keras

    x, y = mnist()
    scope: dict[str, object] = {}
    exec(KERAS_MODEL, scope)  # our own benchmark code, not user input
    model = scope["model"]
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            times.append(time.perf_counter() - self.start)

    # Warm-up on the first batches (graph tracing), then one timed full epoch.
    n = WARMUP_STEPS * BATCH
    model.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, verbose=0)  # type: ignore[attr-defined]
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[Clock()])  # type: ignore[attr-defined]
    return {"seconds": times[-1], "backend": keras.backend.backend(), "version": keras.__version__}


def chollet_torch():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class FlattenHWC(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.permute(0, 2, 3, 1).flatten(1)

    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), FlattenHWC(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10),
    )  # fmt: skip


def worker_torch(one_tensor: bool, tuned: bool = False) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    if tuned:
        from convscope.runtime.allocator import keep_freed_memory

        keep_freed_memory()

    torch.manual_seed(0)
    x_np, y_np = mnist()
    x = torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous()  # (N, 1, 28, 28)
    y = torch.from_numpy(y_np)
    model = chollet_torch()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    if one_tensor:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

        def batches(limit: int | None = None):  # type: ignore[no-untyped-def]
            order = torch.randperm(len(y))
            for i, start in enumerate(range(0, len(y), BATCH)):
                if limit is not None and i >= limit:
                    return
                idx = order[start : start + BATCH]
                yield x[idx], y[idx]
    else:
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True
        )

        def batches(limit: int | None = None):  # type: ignore[no-untyped-def]
            for i, batch in enumerate(loader):
                if limit is not None and i >= limit:
                    return
                yield batch

    def epoch(limit: int | None = None) -> float:
        start = time.perf_counter()
        for xb, yb in batches(limit):
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    epoch(WARMUP_STEPS)
    return {"seconds": epoch()}


def worker_convscope(precision: str) -> dict[str, float]:
    from convscope.core import presets
    from convscope.runtime.data import load
    from convscope.runtime.train import Silent, Split, StopFlag, Trainer, to_split

    spec = presets.model("chollet")
    assert spec.training is not None
    training = spec.training
    mnist_data = load("mnist")
    device = __import__("torch").device("cpu")
    train = to_split(mnist_data.train_images, mnist_data.train_labels, spec, device)
    tiny = Split(train.x[:10], train.y[:10])  # validation is not part of the timing

    def timed(trainer: Trainer) -> float:
        start = time.perf_counter()
        trainer.fit(Silent(), StopFlag(), on_epoch=lambda: None)
        return time.perf_counter() - start

    warm = Split(train.x[: WARMUP_STEPS * BATCH], train.y[: WARMUP_STEPS * BATCH])
    bf16 = precision == "bf16"
    timed(Trainer.create(spec, replace_epochs(training, 1), warm, tiny, seed=0, bf16=bf16))
    trainer = Trainer.create(spec, replace_epochs(training, 1), train, tiny, seed=0, bf16=bf16)
    return {"seconds": timed(trainer)}


def replace_epochs(training, epochs):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(training, epochs=epochs)


def worker_peak() -> dict[str, float]:
    """fp32 matrix-multiply throughput: the machine's practical peak for these threads."""
    import torch

    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    for _ in range(2):
        a @ b
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        runs.append(time.perf_counter() - start)
    return {"gflops": 2 * 4096**3 / min(runs) / 1e9, "threads": torch.get_num_threads()}


def worker_flops() -> dict[str, float]:
    """Training FLOPs per image: 2 per multiply-add, forward + about twice that backward."""
    from convscope.core import presets
    from convscope.core.explain import explain

    macs = explain(presets.model("chollet")).total_macs
    return {"forward_macs": macs, "train_flops": 2 * 3 * macs}


WORKERS = {
    "tf.keras": (lambda: worker_keras(), "tf", {}),
    "keras3-torch": (lambda: worker_keras(), "keras", {"KERAS_BACKEND": "torch"}),
    "torch-dataloader": (lambda: worker_torch(False), "project", {}),
    "torch-tensor": (lambda: worker_torch(True), "project", {}),
    "torch-tuned": (lambda: worker_torch(True, tuned=True), "project", {}),
    "convscope": (lambda: worker_convscope("fp32"), "project", {}),
    "convscope-bf16": (lambda: worker_convscope("bf16"), "project", {}),
    "peak": (worker_peak, "project", {}),
    "flops": (worker_flops, "project", {}),
}
CONTENDERS = (
    "tf.keras",
    "keras3-torch",
    "torch-dataloader",
    "torch-tensor",
    "torch-tuned",
    "convscope",
    "convscope-bf16",
)


def python_for(env: str) -> Path:
    if env == "project":
        return ROOT / ".venv" / "bin" / "python"
    python = ENVS / env / "bin" / "python"
    if not python.exists():
        print(f"creating {ENVS / env} (pip install; the first time only)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ENVS / env)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        packages = ["tensorflow-cpu"] if env == "tf" else ["torch==2.13.0", "keras"]
        subprocess.run([*pip, *packages], check=True)
    return python


def run_worker(name: str) -> dict[str, float]:
    _, env, extra = WORKERS[name]
    environ = {**os.environ, **extra, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [str(python_for(env)), __file__, "--worker", name],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    output: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", default=list(CONTENDERS))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker][0]()))
        return
    peak = run_worker("peak")
    flops = run_worker("flops")
    seconds: dict[str, list[float]] = {name: [] for name in args.only}
    for r in range(args.rounds):
        for name in args.only:
            seconds[name].append(run_worker(name)["seconds"])
            print(f"round {r + 1}: {name:17} {seconds[name][-1]:6.2f} s/epoch", file=sys.stderr)
    median = {name: statistics.median(times) for name, times in seconds.items()}
    images = 60000
    report = {
        "model": "chollet",
        "batch_size": BATCH,
        "rounds": args.rounds,
        "seconds_per_epoch": seconds,
        "median_seconds_per_epoch": median,
        "peak_gflops_fp32": peak["gflops"],
        "threads": peak["threads"],
        "train_gflop_per_image": flops["train_flops"] / 1e9,
        "fraction_of_peak": {
            name: flops["train_flops"] * images / t / 1e9 / peak["gflops"]
            for name, t in median.items()
        },
    }
    if "convscope" in median:
        report["convscope_speedup"] = {
            name: t / median["convscope"] for name, t in median.items() if name != "convscope"
        }
    if "convscope-bf16" in median:
        report["convscope_bf16_speedup"] = {
            name: t / median["convscope-bf16"]
            for name, t in median.items()
            if name != "convscope-bf16"
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(RESULTS)
    print(f"peak fp32 matmul: {peak['gflops']:.0f} GFLOP/s with {peak['threads']} threads")
    for name, t in median.items():
        print(
            f"{name:17} {t:6.2f} s/epoch  {images / t:7,.0f} images/s  "
            f"{report['fraction_of_peak'][name]:5.1%} of peak"
            + (
                f"  convscope is {t / median['convscope']:.2f}x as fast"
                if "convscope" in median
                else ""
            )
        )


if __name__ == "__main__":
    main()
