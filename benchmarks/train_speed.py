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

TensorFlow lives in its own environment (benchmarks/.envs/tf, made with `pip install
tensorflow-cpu` the first time), never in the project's .venv; Keras 3 on torch runs in
the project's .venv, where keras is a test oracle already (the same torch 2.13.0).

  python benchmarks/train_speed.py [--rounds 3] [--presets keras-mnist-cnn ...]

also times the other presets at their own batch sizes against tf.keras, side by side in
the same rounds. Results: benchmarks/results/train_speed.json. `--presets keras-cifar10-cnn`
times the Keras cifar10_cnn.py example on 50,000 CIFAR-shaped images (32x32x3, generated
with a fixed seed: the real CIFAR cannot be downloaded on the machines this runs on, and
speed does not depend on the pictures); `--presets resnet20-cifar` the Keras example's
ResNet-20 (a graph: 20 convolutions, 9 shortcuts) on the same images. `--bf16` adds
each preset in bf16 on both sides: tf.keras under Keras's mixed_bfloat16 policy against
convscope's --precision bf16 (meaningful only on a CPU with AVX512-BF16 or AMX).
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

from turns import TURN_STEPS, Waits, take_turns, wait_turn

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "benchmarks" / ".envs"
RESULTS = ROOT / "benchmarks" / "results" / "train_speed.json"
BATCH, WARMUP_STEPS = 64, 100


COLOUR = ("keras-cifar10-cnn", "resnet20-cifar")  # presets that train on CIFAR-shaped images


def training_data(name: str) -> tuple[object, object]:
    """The preset's training images (N, H, W, C) float32 in [0, 1] and labels."""
    if name not in COLOUR:
        return mnist()
    images, labels = cifar_shaped()
    return (images / 255.0).astype("float32"), labels


def cifar_shaped(count: int = 50000, seed: int = 0) -> tuple[object, object]:
    """`count` uint8 images (32, 32, 3) and labels 0-9, the same in every process."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    return images, rng.integers(0, 10, count).astype(np.int64)


VALIDATE = os.environ.get("BENCH_VALIDATE") == "1"  # --validate: fit(validation_data=...)


def held_out(name: str) -> tuple[object, object]:
    """10,000 test images as training_data gives its images: CIFAR-shaped (another seed)
    or MNIST's own test set, for an epoch that validates as the Keras examples' fit does."""
    if name in COLOUR:
        images, labels = cifar_shaped(10000, seed=1)
        return (images / 255.0).astype("float32"), labels  # type: ignore[operator]
    return mnist("t10k")


def mnist(part: str = "train") -> tuple[object, object]:
    """MNIST's images (N, 28, 28, 1) float32 in [0, 1] and labels, read with numpy only:
    the 60,000 training images, or part="t10k" the 10,000 test images."""
    import numpy as np

    folder = Path(os.environ.get("CONVSCOPE_DATA", ROOT.parent / "shared" / "datasets")) / "mnist"
    with gzip.open(folder / f"{part}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(folder / f"{part}-labels-idx1-ubyte.gz") as f:
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


# What each preset's compile() says, for the Keras contenders (sparse labels: the same work).
KERAS_COMPILE = {
    "chollet": "optimizer='rmsprop'",
    "keras-mnist-cnn": "optimizer=keras.optimizers.Adadelta(learning_rate=1.0)",
    "tf-course": "optimizer='adam'",
    "coursera-fashion": "optimizer='adam'",
    "speedrun": "optimizer=keras.optimizers.Adam(0.001, beta_1=0.7, beta_2=0.9)",
}


def preset_batch(name: str) -> int:
    """The preset's own batch size (the project's environment only: it imports convscope)."""
    from convscope.core import presets

    return presets.get(name).training.batch_size


KERAS_CIFAR10_CNN = """
import keras
from keras.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
model = keras.Sequential([
    keras.Input((32, 32, 3)),
    Conv2D(32, (3, 3), padding='same'), Activation('relu'), Conv2D(32, (3, 3)),
    Activation('relu'), MaxPooling2D(pool_size=(2, 2)), Dropout(0.25),
    Conv2D(64, (3, 3), padding='same'), Activation('relu'), Conv2D(64, (3, 3)),
    Activation('relu'), MaxPooling2D(pool_size=(2, 2)), Dropout(0.25),
    Flatten(), Dense(512), Activation('relu'), Dropout(0.5), Dense(10), Activation('softmax'),
])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.0001),
              loss='sparse_categorical_crossentropy', metrics=['accuracy'])
"""


def keras_model_code(name: str) -> str:
    """The preset's own Keras source up to its compile(), then a compile of the same
    optimiser on sparse labels; chollet keeps the hand-written KERAS_MODEL above, and the
    CIFAR example its model without the script's data loading (KERAS_CIFAR10_CNN)."""
    if name == "chollet":
        return KERAS_MODEL
    if name == "keras-cifar10-cnn":
        return KERAS_CIFAR10_CNN
    from convscope.core import presets

    if name == "resnet20-cifar":  # the example's builders, without its data loading and
        # without the L2 penalty convscope does not apply: the same work on both sides
        source = presets.get(name).source
        builders = source[source.index("def resnet_layer") : source.index("model = resnet_v1(")]
        return (
            "import keras\nfrom keras.layers import Dense, Conv2D, BatchNormalization, "
            "Activation, AveragePooling2D, Input, Flatten\nfrom keras.models import Model\n"
            + builders.replace("kernel_regularizer=l2(1e-4)", "")
            + "model = resnet_v1(input_shape=(32, 32, 3), depth=20)\n"
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), "
            "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        )

    source = presets.get(name).source.split("model.compile(")[0]
    return (
        f"import keras\n{source}\nmodel.compile({KERAS_COMPILE[name]}, "
        "loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
    )


def worker_keras(name: str = "chollet", bf16: bool = False) -> dict[str, float]:
    import keras

    if bf16:  # Keras's mixed precision: bf16 compute, fp32 variables (convscope's bf16 too)
        keras.mixed_precision.set_global_policy("mixed_bfloat16")

    if TURN_STEPS:
        wait_turn()  # in turns: start only when handed the CPU
    x, y = training_data(name)
    scope: dict[str, object] = {}
    code = os.environ.get("BENCH_KERAS_CODE", KERAS_MODEL)  # keras_model_code(), from the parent
    exec(code, scope)  # our own benchmark code and presets, not user input
    model = scope["model"]
    batch = int(os.environ.get("BENCH_BATCH", BATCH))  # the preset's, from the parent
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: object = None) -> None:
            times.append(time.perf_counter() - self.start)

    waits = Waits()

    class Turns(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: object = None) -> None:
            waits.step()

    # Warm-up on the first batches (graph tracing), then one timed full epoch.
    n = WARMUP_STEPS * batch
    xv, yv = held_out(name) if VALIDATE else (None, None)
    warm = {"validation_data": (xv[:n], yv[:n])} if VALIDATE else {}  # type: ignore[index]
    model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0, **warm)  # type: ignore[attr-defined]
    callbacks = [Clock(), *([Turns()] if TURN_STEPS else [])]
    validation = {"validation_data": (xv, yv)} if VALIDATE else {}
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=callbacks, **validation)  # type: ignore[attr-defined]
    seconds = times[-1] - waits.seconds
    return {"seconds": seconds, "backend": keras.backend.backend(), "version": keras.__version__}


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


def worker_convscope(precision: str, name: str = "chollet") -> dict[str, float]:
    from convscope.core import presets
    from convscope.runtime.data import load
    from convscope.runtime.splits import Split, to_split
    from convscope.runtime.train import Silent, StopFlag, Trainer

    if TURN_STEPS:
        wait_turn()  # in turns: start only when handed the CPU
    spec = presets.model(name)
    assert spec.training is not None
    training = spec.training
    batch = training.batch_size
    if name in COLOUR:
        images, labels = cifar_shaped()
        test_images, test_labels = cifar_shaped(10000, seed=1)  # as held_out's
    else:
        found = load("mnist")
        images, labels = found.train_images, found.train_labels
        test_images, test_labels = found.test_images, found.test_labels
    device = __import__("torch").device("cpu")
    train = to_split(images, labels, spec, device)  # type: ignore[arg-type]
    tiny = Split(train.x[:10], train.y[:10])  # validation is not part of the timing
    if VALIDATE:  # unless asked: the Keras examples' epoch, validating on 10,000 images
        tiny = to_split(test_images, test_labels, spec, device)  # type: ignore[arg-type]

    waits = Waits()

    class Turns(Silent):
        def batch_end(self, step: int, logs: dict[str, float]) -> None:
            waits.step()

    def timed(trainer: Trainer, observer: Silent) -> float:
        start = time.perf_counter()
        trainer.fit(observer, StopFlag(), on_epoch=lambda: None)
        return time.perf_counter() - start - waits.seconds

    n = WARMUP_STEPS * batch
    warm = Split(train.x[:n], train.y[:n])
    bf16 = precision == "bf16"
    timed(
        Trainer.create(
            spec,
            replace_epochs(training, 1),
            warm,
            Split(tiny.x[:n], tiny.y[:n]),
            seed=0,
            bf16=bf16,
        ),
        Silent(),
    )
    trainer = Trainer.create(spec, replace_epochs(training, 1), train, tiny, seed=0, bf16=bf16)
    return {"seconds": timed(trainer, Turns() if TURN_STEPS else Silent())}


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
    from convscope.core.explain.rules import explain

    macs = explain(presets.model("chollet")).total_macs
    return {"forward_macs": macs, "train_flops": 2 * 3 * macs}


MODEL = os.environ.get("BENCH_MODEL", "chollet")  # the preset a worker process trains

WORKERS = {
    "tf.keras": (lambda: worker_keras(MODEL), "tf", {}),
    "tf.keras-bf16": (lambda: worker_keras(MODEL, bf16=True), "tf", {}),
    "keras3-torch": (lambda: worker_keras(MODEL), "project", {"KERAS_BACKEND": "torch"}),
    "torch-dataloader": (lambda: worker_torch(False), "project", {}),
    "torch-tensor": (lambda: worker_torch(True), "project", {}),
    "torch-tuned": (lambda: worker_torch(True, tuned=True), "project", {}),
    "convscope": (lambda: worker_convscope("fp32", MODEL), "project", {}),
    "convscope-bf16": (lambda: worker_convscope("bf16", MODEL), "project", {}),
    "peak": (worker_peak, "project", {}),
    "flops": (worker_flops, "project", {}),
}
OTHER_PRESETS = ("keras-mnist-cnn", "tf-course", "coursera-fashion")
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
        subprocess.run([*pip, "tensorflow-cpu"], check=True)
    return python


def worker_command(name: str, model: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of one contender's worker process."""
    _, env, extra = WORKERS[name]
    environ = {**os.environ, **extra, "TF_CPP_MIN_LOG_LEVEL": "2", "BENCH_MODEL": model}
    if name in ("tf.keras", "tf.keras-bf16", "keras3-torch"):
        environ["BENCH_KERAS_CODE"] = keras_model_code(model)
        environ["BENCH_BATCH"] = str(preset_batch(model))
    return [str(python_for(env)), __file__, "--worker", name], environ


def run_worker(name: str, model: str = "chollet") -> dict[str, float]:
    command, environ = worker_command(name, model)
    result = subprocess.run(
        command,
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
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument(
        "--presets",
        nargs="*",
        default=list(OTHER_PRESETS),
        help="other presets, each timed against tf.keras at its own batch size",
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also time the presets in bf16: tf.keras's mixed_bfloat16 against --precision bf16",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="the presets' epochs validate on 10,000 held-out images, as the Keras "
        "examples' fit(validation_data=...) does (default: training only)",
    )
    parser.add_argument(
        "--turns",
        type=int,
        default=0,
        metavar="STEPS",
        help="run each preset's contenders all at once, taking turns on the CPU every STEPS "
        "training steps (benchmarks/turns.py), instead of one after another",
    )
    args = parser.parse_args()
    if args.validate:  # the workers read it (worker_command copies os.environ)
        os.environ["BENCH_VALIDATE"] = "1"
    if args.worker:
        print(json.dumps(WORKERS[args.worker][0]()))
        return
    peak = run_worker("peak")
    flops = run_worker("flops")
    seconds: dict[str, list[float]] = {name: [] for name in args.only}
    against = ("tf.keras", "convscope", *(("tf.keras-bf16", "convscope-bf16") if args.bf16 else ()))
    others: dict[str, dict[str, list[float]]] = {p: {n: [] for n in against} for p in args.presets}
    for r in range(args.rounds):  # every contender once per round: noise hits all alike
        for name in args.only:
            seconds[name].append(run_worker(name)["seconds"])
            print(f"round {r + 1}: {name:17} {seconds[name][-1]:6.2f} s/epoch", file=sys.stderr)
        for preset, times in others.items():
            if args.turns:
                workers = {name: worker_command(name, preset) for name in times}
                results = take_turns(workers, args.turns)
            for name in times:
                result = results[name] if args.turns else run_worker(name, preset)
                times[name].append(result["seconds"])
                print(
                    f"round {r + 1}: {preset} {name:10} {times[name][-1]:6.2f} s/epoch",
                    file=sys.stderr,
                )
    median = {name: statistics.median(times) for name, times in seconds.items()}
    images = 60000
    report = {
        "model": "chollet",
        "batch_size": BATCH,
        "rounds": args.rounds,
        "presets_in_turns_of_steps": args.turns or None,
        "presets_validate_on_10000": args.validate,
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
    from common import cpu  # the project's environment only (it imports convscope)

    report["cpu"] = cpu()
    report["presets"] = {
        preset: {
            "batch_size": preset_batch(preset),
            "seconds_per_epoch": times,
            "median_seconds_per_epoch": {n: statistics.median(v) for n, v in times.items()},
            "convscope_speedup_over_tf_keras": statistics.median(times["tf.keras"])
            / statistics.median(times["convscope"]),
            **(
                {
                    "bf16_speedup_over_tf_keras_bf16": statistics.median(times["tf.keras-bf16"])
                    / statistics.median(times["convscope-bf16"]),
                    "bf16_speedup_over_tf_keras_fp32": statistics.median(times["tf.keras"])
                    / statistics.median(times["convscope-bf16"]),
                }
                if args.bf16
                else {}
            ),
        }
        for preset, times in others.items()
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.results.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(args.results)
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
    for preset, r in report["presets"].items():  # type: ignore[attr-defined]
        m = r["median_seconds_per_epoch"]
        print(
            f"{preset:17} batch {r['batch_size']:3}: tf.keras {m['tf.keras']:6.2f} s/epoch, "
            f"convscope {m['convscope']:6.2f} s/epoch ({r['convscope_speedup_over_tf_keras']:.2f}x)"
        )
        if args.bf16:
            print(
                f"{'':17} bf16:      tf.keras {m['tf.keras-bf16']:6.2f} s/epoch, "
                f"convscope {m['convscope-bf16']:6.2f} s/epoch "
                f"({r['bf16_speedup_over_tf_keras_bf16']:.2f}x; "
                f"{r['bf16_speedup_over_tf_keras_fp32']:.2f}x tf.keras fp32)"
            )


if __name__ == "__main__":
    main()
