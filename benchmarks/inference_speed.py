"""Inference against tf.keras: Keras's model.predict on a batch of images, as `evaluate`,
`predict`, the live page and every epoch's validation pass run it.

For each preset the same weights go both ways: convscope's initial weights for seed 0,
exported as a .keras file that tf.keras loads (keras.models.load_model); the two
predictions must agree to 1e-4 before any time counts. Images are random uint8 of the
preset's input (the speed does not depend on what they show; the data sets are not all
here): 10,000 for chollet (MNIST's test set size) and keras-cifar10-cnn (CIFAR's),
1,000 photos for chollet-cats-dogs (180x180x3).

Contenders, in turns (benchmarks/turns.py: all alive, one running at a time):
  tf.keras          TensorFlow 2.21's Keras 3, model.predict(x) (its default batch of 32)
  tf.keras-b256     the same with batch_size=256
  convscope         Model.predict(x), 1,000 images a call (its own batch inside)
  convscope-before  the same from an older commit's tree (--before PATH/src), if given

Each repeats the whole set `--repeats` times after a warm-up; the median time per image.
TensorFlow runs in benchmarks/.envs/tf (made by train_speed.py). Results:
benchmarks/results/inference_speed.json.

  python benchmarks/inference_speed.py [--presets chollet,...] [--before /tmp/old/src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from turns import Waits, take_turns, wait_turn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "inference_speed.json"
TF_PYTHON = ROOT / "benchmarks" / ".envs" / "tf" / "bin" / "python"
IMAGES = {"chollet": 10_000, "keras-cifar10-cnn": 10_000, "chollet-cats-dogs": 1_000}
CHUNK = 1000  # convscope's images a call: a turn may pass between calls


def images(shape: list[int], count: int):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (count, *shape), dtype=np.uint8)


def worker(kind: str, preset: str, model_file: str, repeats: int) -> dict[str, float]:
    """One contender: predict every image `repeats` times; seconds per pass, a checksum."""
    import numpy as np

    spec = json.loads(Path(model_file).with_suffix(".json").read_text())
    x = images(spec["shape"], IMAGES[preset])
    scaled = x.astype(np.float32) / 255 if spec["scale"] else x.astype(np.float32)
    waits = Waits()
    if kind.startswith("tf.keras"):
        import keras

        model = keras.models.load_model(model_file)
        batch = 256 if kind.endswith("b256") else None

        class Turns(keras.callbacks.Callback):
            def on_predict_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
                waits.step()

        def one_pass() -> np.ndarray:
            out: np.ndarray = model.predict(scaled, batch_size=batch, verbose=0,
                                            callbacks=[Turns()])  # fmt: skip
            return out
    else:
        import convscope as cs

        mine = cs.load(preset)
        given = x if spec["scale"] else scaled  # as the data set stores its images

        def one_pass() -> np.ndarray:
            outs = []
            for start in range(0, len(given), CHUNK):
                outs.append(mine.predict(given[start : start + CHUNK]))
                waits.step()
            return np.concatenate(outs)

    wait_turn()
    first = one_pass()  # warm-up, and the answer checked against the others'
    seconds = []
    for _ in range(repeats):
        start, waited = time.perf_counter(), waits.seconds
        one_pass()
        seconds.append(time.perf_counter() - start - (waits.seconds - waited))
    return {"seconds": seconds, "us_per_image": statistics.median(seconds) / len(x) * 1e6,
            "first": first[:100].astype(float).tolist()}  # fmt: skip


def difference(theirs: list[list[float]], ours: list[list[float]]) -> float:
    """The largest difference between two contenders' outputs for the first images."""
    return max(abs(a - b) for r, q in zip(theirs, ours, strict=True)
               for a, b in zip(r, q, strict=True))  # fmt: skip


def export(preset: str, folder: Path) -> Path:
    """The preset's seed-0 weights as a .keras file, with its input shape and scaling."""
    import convscope as cs

    model = cs.load(preset)
    path = folder / f"{preset}.keras"
    model.export(path)
    shape = list(model.subject.spec.input_shape)
    shape = shape[:2] if shape == [28, 28, 1] else shape  # MNIST as keras.datasets gives it
    info = {"shape": shape, "scale": model.subject.scale}
    path.with_suffix(".json").write_text(json.dumps(info))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", default=",".join(IMAGES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--turn-steps", type=int, default=20)
    parser.add_argument("--before", help="an older tree's src folder, timed as convscope-before")
    parser.add_argument("--worker", nargs=4, metavar=("KIND", "PRESET", "FILE", "REPEATS"))
    args = parser.parse_args()
    if args.worker:
        kind, preset, file, repeats = args.worker
        print(json.dumps(worker(kind, preset, file, int(repeats))), flush=True)
        return
    from common import cpu

    threads = {"OMP_NUM_THREADS": str(os.cpu_count())}
    plain = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | threads
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results |= {"cpu": cpu(), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            file = str(export(preset, Path(tmp)))
            me = [__file__, "--worker"]
            tail = [preset, file, str(args.repeats)]
            tf_env = plain | {"KERAS_BACKEND": "tensorflow"}
            workers = {
                "tf.keras": ([str(TF_PYTHON), *me, "tf.keras", *tail], tf_env),
                "tf.keras-b256": ([str(TF_PYTHON), *me, "tf.keras-b256", *tail], tf_env),
                "convscope": ([sys.executable, *me, "convscope", *tail], plain),
            }
            if args.before:
                before = plain | {"PYTHONPATH": args.before}
                workers["convscope-before"] = ([sys.executable, *me, "convscope", *tail], before)
            found = take_turns(workers, args.turn_steps)
            ours = found["convscope"]
            agree = {name: difference(res["first"], ours["first"]) for name, res in found.items()}
            assert all(d < 1e-4 for d in agree.values()), agree
            results[preset] = {
                "images": IMAGES[preset],
                "us_per_image": {name: res["us_per_image"] for name, res in found.items()},
                "seconds": {name: res["seconds"] for name, res in found.items()},
                "largest_difference": agree,
                "convscope_speedup": {
                    n: r["us_per_image"] / ours["us_per_image"] for n, r in found.items()
                },
            }
            print(preset, json.dumps(results[preset]["us_per_image"]), flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
