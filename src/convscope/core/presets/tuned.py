"""Presets tuned for speed or accuracy on 2 cores: the speedrun, best-mnist, best-fashion."""

from __future__ import annotations

from ..spec import Schedule, TrainingSpec
from .preset import Preset

SPEEDRUN = Preset(
    name="speedrun",
    title="convscope's CPU speedrun: 99% on MNIST in one epoch",
    origin="convscope (README, 'The speedrun'); the network and Adam settings follow "
    "tuomaso/train_mnist_fast (99% in 0.76 s on a GPU)",
    source="""\
import keras
from keras import layers

# Small and shallow: a 5x5 first layer sees a stroke at once, two poolings keep the maps
# small, and one wide Dense layer does the rest. No dropout: one epoch cannot overfit.
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(24, (5, 5), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(32, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.Dense(10, activation="softmax"),
])

# One cycle (Smith's superconvergence): the rate climbs from 0.0004 to 0.01 over the
# first 30% of the epoch's 235 steps, then falls along a cosine to 0.
steps = 235  # ceil(60000 / 256)
warmup = 70
schedule = keras.optimizers.schedules.CosineDecay(
    0.0004, decay_steps=steps - warmup, warmup_target=0.01, warmup_steps=warmup
)
model.compile(
    optimizer=keras.optimizers.Adam(schedule, beta_1=0.7, beta_2=0.9),
    loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    metrics=["accuracy"],
)
model.fit(train_images, train_labels, batch_size=256, epochs=1)
""",
    training=TrainingSpec(
        "mnist",
        "adam",
        "categorical_crossentropy",
        batch_size=256,
        epochs=1,
        optimizer_args=(("beta_1", 0.7), ("beta_2", 0.9)),
        schedule=Schedule(
            "CosineDecay",
            (
                ("initial_learning_rate", 0.0004),
                ("decay_steps", 165),
                ("warmup_target", 0.01),
                ("warmup_steps", 70),
            ),
        ),
        label_smoothing=0.1,
    ),
)

# The tuned presets share one network: two 3x3 convolutions per block with batch
# normalisation (so the rate can be high), max pooling, and augmentation layers that only
# act while training. Their recipes and measured effects are in the README.
BEST_MNIST = Preset(
    name="best-mnist",
    title="convscope's tuned MNIST network (>= 99.6%)",
    origin="convscope (README, 'Tuned presets'): a VGG-style network with batch "
    "normalisation, augmentation layers, a one-cycle schedule and label smoothing",
    source="""\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.RandomRotation(0.03, fill_mode="constant"),
    layers.RandomTranslation(0.08, 0.08, fill_mode="constant"),
    layers.RandomZoom(0.08, fill_mode="constant"),
    layers.Conv2D(32, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(32, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(64, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(128, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
])
epochs = 12
steps = 469 * epochs  # ceil(60000 / 128) per epoch
warmup = steps // 5
schedule = keras.optimizers.schedules.CosineDecay(
    0.0001, decay_steps=steps - warmup, warmup_target=0.003, warmup_steps=warmup
)
model.compile(
    optimizer=keras.optimizers.Adam(schedule),
    loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    metrics=["accuracy"],
)
model.fit(train_images, train_labels, batch_size=128, epochs=epochs)
""",
    training=TrainingSpec(
        "mnist",
        "adam",
        "categorical_crossentropy",
        batch_size=128,
        epochs=12,
        schedule=Schedule(
            "CosineDecay",
            (
                ("initial_learning_rate", 0.0001),
                ("decay_steps", 4503),
                ("warmup_target", 0.003),
                ("warmup_steps", 1125),
            ),
        ),
        label_smoothing=0.1,
    ),
)

BEST_FASHION = Preset(
    name="best-fashion",
    title="convscope's tuned Fashion-MNIST network (>= 93%)",
    origin="convscope (README, 'Tuned presets'): best-mnist's network with mirrored clothes "
    "instead of turned and shifted digits, and a wider Dense layer",
    source="""\
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.RandomFlip("horizontal"),
    layers.Conv2D(32, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(32, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Conv2D(64, (3, 3), use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(256, use_bias=False),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
])
epochs = 15
steps = 469 * epochs  # ceil(60000 / 128) per epoch
warmup = steps // 5
schedule = keras.optimizers.schedules.CosineDecay(
    0.0001, decay_steps=steps - warmup, warmup_target=0.003, warmup_steps=warmup
)
model.compile(
    optimizer=keras.optimizers.Adam(schedule),
    loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
    metrics=["accuracy"],
)
from keras.datasets import fashion_mnist

(train_images, train_labels), _ = fashion_mnist.load_data()
model.fit(train_images, train_labels, batch_size=128, epochs=epochs)
""",
    training=TrainingSpec(
        "fashion-mnist",
        "adam",
        "categorical_crossentropy",
        batch_size=128,
        epochs=15,
        schedule=Schedule(
            "CosineDecay",
            (
                ("initial_learning_rate", 0.0001),
                ("decay_steps", 5628),
                ("warmup_target", 0.003),
                ("warmup_steps", 1407),
            ),
        ),
        label_smoothing=0.1,
    ),
)
