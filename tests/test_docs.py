"""Every command the README and docs/ show is run, every link and anchor resolves.

The commands run in a sandbox folder holding what they name: `my_model.py` (chollet's
Keras source), `my_model.keras` (a one-epoch run exported), `runs/<run>` (that run),
`sweeps/<sweep>`, `photos/` and `cats_vs_dogs_small/` (coloured shapes), `my_photo.jpg`,
`arrays.npz` (MNIST images), `my_digit.png` (a test digit, dark on white), `sweep.toml`
(two trials) and `my_transfer.py` (Chollet's VGG16 feature extractor). Training
commands get `--train-images 300 --epochs 1` appended (argparse takes the last value),
so they run on small data with every option the docs give them; `train --resume`
continues the sandbox run by one epoch. A block marked
`<!-- docs-test: skip: why -->` is not run (tests/docs_blocks.py); the fast tests check
that everything else is runnable.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from .docs_blocks import (
    Block,
    Command,
    blocks,
    broken_link,
    commands,
    links,
    pages,
    shown_in,
)
from .helpers import QUICK, run_cli, shapes_folder

SMALL = ("--train-images", "300", "--epochs", "1")
TRANSFER = """
import keras
from keras import layers

conv_base = keras.applications.vgg16.VGG16(weights="imagenet", include_top=False,
                                           input_shape=(180, 180, 3))
conv_base.trainable = False
inputs = keras.Input(shape=(180, 180, 3))
x = conv_base(inputs)
x = layers.Flatten()(x)
x = layers.Dense(256)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
"""  # Chollet's feature extractor (Deep Learning with Python, 2nd ed., 8.3)
KAGGLE = """
import pandas as pd
from tensorflow import keras
from tensorflow.keras import layers

train = pd.read_csv("../input/digit-recognizer/train.csv")
labels = train["label"]
x = train.drop("label", axis=1).values.reshape(-1, 28, 28, 1) / 255.0
model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=x.shape[1:]),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(len(set(labels)), activation="softmax"),
])
"""  # a Kaggle notebook's: the shapes come from a CSV
TRAINS = {"train", "sweep", "experiment"}  # commands that train: on small data here


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]


def runnable() -> list[Command]:
    return [c for b in all_blocks() if b.marker != "skip" for c in commands(b)]


def placeholders(command: Command) -> list[str]:
    """What the sandbox cannot give: `...`, a <placeholder> it does not know, or a server
    (`serve` runs until Ctrl-C)."""
    words = [w.replace("runs/<run>", "").replace("sweeps/<sweep>", "") for w in command.argv]
    found = [w for w in words if "..." in w or ("<" in w and ">" in w)]
    return found + (["serve"] if command.argv[:1] == ("serve",) else [])


# ---- fast: the docs are consistent ----


def test_every_link_and_anchor_resolves() -> None:
    broken = [
        f"{page.name}:{line} {target}: {why}"
        for page in pages()
        for line, target in links(page)
        if (why := broken_link(page, target))
    ]
    assert not broken, "\n".join(broken)
    assert sum(len(links(page)) for page in pages()) > 20


def test_every_shown_command_can_be_run_or_is_marked() -> None:
    """A command with `...` or an unknown <placeholder> must sit in a skipped block."""
    found = runnable()
    unrunnable = [f"{c.block.where}: {c.text}" for c in found if placeholders(c)]
    assert not unrunnable, "mark these blocks docs-test: skip:\n" + "\n".join(unrunnable)
    assert len(found) > 40
    assert all(b.reason for b in all_blocks() if b.marker == "skip")  # each says why


def test_a_stale_command_is_caught(tmp_path: Path) -> None:
    """A README command with an option renamed fails the way test_docs_commands would."""
    stale = tmp_path / "README.md"
    stale.write_text("```bash\nconvscope explain chollet --jsn   # renamed since\n```\n")
    (command,) = commands(blocks(stale)[0])
    result = run_cli(*command.argv)
    assert result.code == 2 and "unrecognized arguments: --jsn" in result.err


def test_a_changed_output_is_caught() -> None:
    shown = "conv2d (Conv2D)   (None, 26, 26, 32)   320\n...\nTotal params: 1,199,882"
    assert (
        shown_in(shown, "x\nconv2d (Conv2D)   (None, 26, 26, 32)   320\nTotal params: 1,199,882")
        is None
    )
    assert shown_in(
        shown, "conv2d (Conv2D)   (None, 26, 26, 32)   320\nTotal params: 1,199,883"
    ) == ("Total params: 1,199,882")


# ---- slow: run them ----


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("docs")
    source = run_cli("explain", "chollet", "--source")
    assert source.code == 0
    (root / "my_model.py").write_text(source.out)
    trained = run_cli("train", "chollet", *QUICK, "--runs-dir", str(root / "runs"), "--json")
    assert trained.code == 0, trained.err
    run = next((root / "runs").iterdir())
    sweep = root / "sweeps" / "small"
    made = run_cli("sweep", "chollet", "--grid", "lr=1e-3,3e-4", *SMALL, "--quiet",
                   "--output", str(sweep))  # fmt: skip
    assert made.code == 0, made.err
    from PIL import Image

    from convscope.runtime.data import load

    mnist = load("mnist")
    for label in range(10):  # a folder of photos: MNIST digits as PNGs, one folder a class
        (root / "photos" / str(label)).mkdir(parents=True)
        for i in np.flatnonzero(mnist.train_labels == label)[:20]:
            Image.fromarray(mnist.train_images[i]).save(root / "photos" / str(label) / f"{i}.png")
    shapes_folder(root / "cats_vs_dogs_small", per_class=20, classes=2)
    shutil.copy(next((root / "cats_vs_dogs_small").rglob("*.jpg")), root / "my_photo.jpg")
    digit = Image.fromarray(255 - mnist.test_images[0]).resize((140, 140))  # a 7
    digit.save(root / "my_digit.png")
    digit.save(root / "my7.png")
    np.savez(root / "arrays.npz", x_train=mnist.train_images[:600],
             y_train=mnist.train_labels[:600], x_test=mnist.test_images[:200],
             y_test=mnist.test_labels[:200])  # fmt: skip
    for name in ("a", "b", "c"):  # runs to compare
        shutil.copytree(run, root / "runs" / name)
    shutil.copy(Path(__file__).parent / "fixtures" / "scripts" / "dcgan_two_models.py",
                root / "gan.py")  # fmt: skip
    (root / "kaggle.py").write_text(KAGGLE)
    exported = run_cli("export", str(run), "--format", "keras", "-o", str(root / "my_model.keras"))
    assert exported.code == 0, exported.err
    import keras  # the dev tools' Keras 3 writes the .h5 that Keras users have

    keras.models.load_model(root / "my_model.keras").save(root / "my_model.h5")
    (root / "my_transfer.py").write_text(TRANSFER)
    (root / "sweep.toml").write_text(
        'model = "chollet"\nepochs = 1\ntrain_images = 300\n[grid]\nlr = [3e-4, 1e-3]\n'
    )
    np.savez(root / "arrays.npz", x_train=mnist.train_images[:600],
             y_train=mnist.train_labels[:600], x_test=mnist.test_images[:200],
             y_test=mnist.test_labels[:200])  # fmt: skip
    yield {"root": root, "run": run, "sweep": sweep}


def filled(text: str, sandbox: dict[str, Path]) -> str:
    """The docs' placeholders as the sandbox's paths, relative to it."""
    run, sweep = (str(sandbox[k].relative_to(sandbox["root"])) for k in ("run", "sweep"))
    return text.replace("runs/<run>", run).replace("sweeps/<sweep>", sweep)


def argv_in(command: Command, sandbox: dict[str, Path]) -> list[str]:
    words = [filled(w, sandbox) for w in command.argv]
    if words[:2] == ["train", "--resume"]:
        return [*words, "--epochs", "2"]  # the sandbox run trained 1 epoch: one more
    if words[:1] == ["experiment"] and words[1:2] != ["pooling"] and words[1:2] != ["probe"]:
        return words  # occlusion and attribution train nothing
    if words[:1] and words[0] in TRAINS and "--resume" not in words and "--config" not in words:
        words += SMALL
    return words


@pytest.fixture
def inside(sandbox: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the sandbox, as the current folder: a command may change it."""
    folder = tmp_path / "here"
    shutil.copytree(sandbox["root"], folder, symlinks=True)
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("command", runnable(), ids=lambda c: f"{c.block.where} {c.text[:60]}")
def test_docs_commands(command: Command, sandbox: dict[str, Path], inside: Path) -> None:
    stdin = (inside / command.stdin_file).read_text() if command.stdin_file else ""
    result = run_cli(*argv_in(command, sandbox), stdin=stdin)
    assert result.code == 0, f"{command.block.where}: {command.text}\n{result.err[-2000:]}"
    if command.block.expected is not None:
        missing = shown_in(command.block.expected, result.out)
        assert missing is None, f"{command.block.where}: not in the output: {missing!r}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.lang == "python" and b.marker == "run"],
    ids=lambda b: b.where,
)  # fmt: skip
def test_docs_python_snippets(block: Block, sandbox: dict[str, Path], inside: Path) -> None:
    with redirect_stdout(io.StringIO()):
        exec(compile(filled(block.text, sandbox), block.where, "exec"), {"__name__": "__docs__"})
