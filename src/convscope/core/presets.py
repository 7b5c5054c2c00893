"""The models our users start from, as the Keras code they were published in.

Each preset is its Keras source (read by the same importer as a user's file, so the
code shown is the code explained) plus the training settings its origin used.
Origins: ../shared/seeds/ in the project's steering repository.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import ConvscopeError
from .source.read import read_model
from .spec import ModelSpec, Schedule, TrainingSpec


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    origin: str
    source: str
    training: TrainingSpec


CHOLLET = Preset(
    name="chollet",
    title="Deep Learning with Python (Chollet), chapter 5: MNIST convnet",
    origin="F. Chollet, Deep Learning with Python (1st ed., Manning 2017), listing 5.1-5.3",
    source="""\
from keras import layers
from keras import models

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation='relu'))
model.add(layers.Flatten())
model.add(layers.Dense(64, activation='relu'))
model.add(layers.Dense(10, activation='softmax'))

model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
model.fit(train_images, train_labels, epochs=5, batch_size=64)
""",
    training=TrainingSpec("mnist", "rmsprop", "categorical_crossentropy", batch_size=64, epochs=5),
)

KERAS_MNIST_CNN = Preset(
    name="keras-mnist-cnn",
    title="The Keras mnist_cnn.py example",
    origin="keras-team/keras examples/mnist_cnn.py (Keras 2), as quoted in the seed",
    source="""\
import keras
from keras.models import Sequential
from keras.layers import Dense, Dropout, Flatten
from keras.layers import Conv2D, MaxPooling2D

batch_size = 128
num_classes = 10
epochs = 12
img_rows, img_cols = 28, 28
input_shape = (img_rows, img_cols, 1)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

# The example was written for Adadelta's old default learning rate of 1.0; Keras 3's
# default is 0.001, with which it stalls near 84% (keras-team/keras#13815).
model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(learning_rate=1.0),
              metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=1,
          validation_data=(x_test, y_test))
""",
    training=TrainingSpec(
        "mnist",
        "adadelta",
        "categorical_crossentropy",
        batch_size=128,
        epochs=12,
        learning_rate=1.0,
    ),
)

TF_COURSE = Preset(
    name="tf-course",
    title="TensorFlow course: convolutions on Fashion-MNIST",
    origin="TensorFlow in Practice (Coursera), 'Improving computer vision accuracy using "
    "convolutions', as quoted in the pooling question seed",
    source="""\
import tensorflow as tf

model = tf.keras.models.Sequential([
    tf.keras.layers.Conv2D(32, (3,3), activation='relu', input_shape=(28, 28, 1)),
    tf.keras.layers.MaxPooling2D(2, 2),
    tf.keras.layers.Conv2D(32, (3,3), activation='relu'),
    tf.keras.layers.MaxPooling2D(2, 2),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax')
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(training_images, training_labels, epochs=5)
""",
    training=TrainingSpec(
        "fashion-mnist", "adam", "sparse_categorical_crossentropy", batch_size=32, epochs=5
    ),
)

COURSERA_FASHION = Preset(
    name="coursera-fashion",
    title="Coursera course notes: Fashion-MNIST with 64-filter convolutions",
    origin="Week 3 course notes (seed coursera-fashion-notes.txt), with its missing commas "
    "and MaxPooling2d spelling fixed",
    source="""\
from tensorflow import keras
import tensorflow as tf

model = keras.Sequential([
    keras.layers.Conv2D(64, (3,3), activation='relu', input_shape=(28,28,1)),
    keras.layers.MaxPooling2D(2,2),
    keras.layers.Conv2D(64, (3,3), activation='relu'),
    keras.layers.MaxPooling2D(2,2),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation=tf.nn.relu),
    keras.layers.Dense(10, activation=tf.nn.softmax)
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(training_images, training_labels, epochs=5)
""",
    training=TrainingSpec(
        "fashion-mnist", "adam", "sparse_categorical_crossentropy", batch_size=32, epochs=5
    ),
)

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

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        CHOLLET,
        KERAS_MNIST_CNN,
        TF_COURSE,
        COURSERA_FASHION,
        SPEEDRUN,
        BEST_MNIST,
        BEST_FASHION,
    )
}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConvscopeError(f"no preset named {name!r}; presets: {', '.join(PRESETS)}") from None


def model(name: str, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """The preset's model, read from its Keras source, with its training settings."""
    preset = get(name)
    spec = read_model(preset.source, preset.name, input_shape=input_shape).spec
    return replace(spec, training=preset.training)
