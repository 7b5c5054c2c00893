"""A folder of 25,000 photos: convscope's first decode (time, peak memory), then one epoch of
`chollet-cats-dogs` against tf.keras's image_dataset_from_directory + fit on the same folder.

The folder is generated once (benchmarks/.data/photos25k: cats/ and dogs/, 12,500 JPEGs of
500x375 each, shapes on noise with a fixed seed; real photos cannot be downloaded here and
the speed does not depend on what they show). Each step runs in a fresh process, one after
another, and reports its own peak resident memory (ru_maxrss: the memory-mapped cache's
pages count once they are read):

  decode     convscope reads the folder into its cache (.convscope-cache/, removed first)
  convscope  convscope train chollet-cats-dogs --data FOLDER --epochs 1: 20,000 photos
             train, 5,000 validate (validation_split 0.2, seed 1), from the cache
  tf.keras   the book's pipeline: image_dataset_from_directory(validation_split=0.2,
             subset="both", seed=1, image_size=(180, 180), batch_size=32), the same
             model (keras.Model with the augmentation block), fit for one epoch; it decodes
             the JPEGs every epoch, as the book's code does (no .cache())

Both epochs include the validation pass. Then `predict`: every photo of the folder through
the same (untrained: the speed does not depend on the weights) model, as a user predicts a
folder:

  convscope  cs.load("chollet-cats-dogs").predict_images(FOLDER) (`convscope predict RUN
             FOLDER`): each JPEG decoded and resized on threads, 64 at a time
  tf.keras   model.predict(image_dataset_from_directory(FOLDER, labels=None,
             image_size=(180, 180), shuffle=False))

TensorFlow runs in benchmarks/.envs/tf (made by train_speed.py). Results:
benchmarks/results/folder_speed.json (steps not run keep their last figures).

  python benchmarks/folder_speed.py [--images 25000] [--steps train,predict]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"
RESULTS = ROOT / "benchmarks" / "results" / "folder_speed.json"
TF_PYTHON = ROOT / "benchmarks" / ".envs" / "tf" / "bin" / "python"


def make_photos(folder: Path, count: int) -> None:
    """`count` JPEGs of 500x375 in cats/ and dogs/ (a circle or a square on noise)."""
    import numpy as np
    from PIL import Image, ImageDraw

    for label, name in enumerate(("cats", "dogs")):
        (folder / name).mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(label)
        for i in range(count // 2):
            path = folder / name / f"{name[:-1]}.{i}.jpg"
            if path.exists():
                continue
            noise = rng.integers(0, 256, (375 // 5, 500 // 5, 3), dtype=np.uint8)
            image = Image.fromarray(noise).resize((500, 375))
            x, y, r = int(rng.integers(80, 420)), int(rng.integers(80, 295)), 70
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw = ImageDraw.Draw(image)
            (draw.ellipse if label == 0 else draw.rectangle)([x - r, y - r, x + r, y + r], fill)
            image.save(path, quality=90)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker_decode(folder: str) -> dict[str, float]:
    from convscope.runtime import folders, imagecache

    shutil.rmtree(Path(folder) / imagecache.CACHE, ignore_errors=True)
    start = time.perf_counter()
    read = folders.read_folder(Path(folder), (180, 180), 3, validation_split=0.2, seed=1,
                               skip_bad=False)  # fmt: skip
    return {"seconds": time.perf_counter() - start, "images": len(read.train[1]) +
            len(read.validation[1]), "peak_mb": peak_mb()}  # fmt: skip


def worker_convscope(folder: str) -> dict[str, float]:
    import convscope as cs

    run = cs.train("chollet-cats-dogs", dataset=folder, epochs=1, seed=1, quiet=True,
                   runs_dir=ROOT / "benchmarks" / ".runs")  # fmt: skip
    return {"seconds": run.history[0]["seconds"], "accuracy": run.test_accuracy,
            "peak_mb": peak_mb()}  # fmt: skip


def worker_predict(folder: str) -> dict[str, float]:
    import convscope as cs

    model = cs.load("chollet-cats-dogs")
    start = time.perf_counter()
    found = model.predict_images(folder)
    return {"seconds": time.perf_counter() - start, "images": len(found.files),
            "peak_mb": peak_mb()}  # fmt: skip


TF_MODEL = """
import time, json, resource, sys
import keras
from keras import layers
from keras.utils import image_dataset_from_directory

data_augmentation = keras.Sequential(
    [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1), layers.RandomZoom(0.2)])
inputs = keras.Input(shape=(180, 180, 3))
x = data_augmentation(inputs)
x = layers.Rescaling(1./255)(x)
for filters in (32, 64, 128, 256):
    x = layers.Conv2D(filters=filters, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
"""
TF_TRAIN = (
    TF_MODEL
    + """
train, validation = image_dataset_from_directory(
    sys.argv[1], validation_split=0.2, subset="both", seed=1, image_size=(180, 180),
    batch_size=32)
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
times = []
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.start)
history = model.fit(train, epochs=1, validation_data=validation, callbacks=[Clock()], verbose=0)
print(json.dumps({"seconds": times[-1], "accuracy": history.history["val_accuracy"][-1],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "version": keras.__version__}))
"""
)
TF_PREDICT = (
    TF_MODEL
    + """
start = time.perf_counter()
photos = image_dataset_from_directory(sys.argv[1], labels=None, image_size=(180, 180),
                                      shuffle=False, batch_size=32)
found = model.predict(photos, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start, "images": len(found),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
)


def run(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{cmd[:3]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=25000)
    parser.add_argument("--steps", default="train,predict", help="train (decode, then an "
                        "epoch of each), predict, or both")  # fmt: skip
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        kind, folder = args.worker
        workers = {"decode": worker_decode, "convscope": worker_convscope,
                   "predict": worker_predict}  # fmt: skip
        print(json.dumps(workers[kind](folder)))
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import cpu

    folder = DATA / f"photos{args.images // 1000}k"
    make_photos(folder, args.images)
    # two threads for each contender, whatever else the machine did a moment before
    env = {**os.environ, "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": str(os.cpu_count())}
    tf_env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    me = [sys.executable, __file__, "--worker"]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results |= {"cpu": cpu(), "cores": os.cpu_count(), "images": args.images}
    steps = args.steps.split(",")
    if "train" in steps:
        results["decode"] = run([*me, "decode", str(folder)], env)
        results["convscope"] = run([*me, "convscope", str(folder)], env)
        results["tf.keras"] = run([str(TF_PYTHON), "-c", TF_TRAIN, str(folder)], tf_env)
        results["epoch_ratio"] = results["tf.keras"]["seconds"] / results["convscope"]["seconds"]
    if "predict" in steps:
        mine = run([*me, "predict", str(folder)], env)
        theirs = run([str(TF_PYTHON), "-c", TF_PREDICT, str(folder)], tf_env)
        results["predict"] = {"convscope": mine, "tf.keras": theirs,
                              "ratio": theirs["seconds"] / mine["seconds"]}  # fmt: skip
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
