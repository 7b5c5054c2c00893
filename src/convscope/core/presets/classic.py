"""The tutorial models the seeds quote: Chollet's MNIST convnet, the Keras mnist_cnn.py
example, the TensorFlow course's and Coursera's Fashion-MNIST convnets."""

from __future__ import annotations

from ..spec import TrainingSpec
from .preset import Preset

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
