"""Residual presets: a small residual network for MNIST, and He et al.'s ResNet-20 for
CIFAR-10 as the Keras example cifar10_resnet.py builds it."""

from __future__ import annotations

from ..spec import Schedule, TrainingSpec
from .preset import Preset

RESIDUAL_MNIST = Preset(
    name="residual-mnist",
    title="A small residual network for MNIST",
    origin="written for convscope: the residual block of He et al. 2016 (two 3x3 convolutions "
    "with batch normalization, an identity shortcut, a 1x1 projection where the channels "
    "change) at MNIST's size, with Keras 3's functional API",
    source='''\
"""A small residual network for MNIST: three residual blocks between two poolings."""
import keras
from keras import layers


def residual_block(x, filters):
    shortcut = x
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if x.shape[-1] != filters:  # the channels change: a 1x1 projection on the shortcut
        shortcut = layers.Conv2D(filters, 1, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.add([y, shortcut])
    return layers.ReLU()(y)


inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = residual_block(x, 16)
x = layers.MaxPooling2D()(x)  # 14 x 14
x = residual_block(x, 32)
x = layers.MaxPooling2D()(x)  # 7 x 7
x = residual_block(x, 64)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
schedule = keras.optimizers.schedules.CosineDecay(  # 4 epochs of ceil(60000 / 128) steps
    initial_learning_rate=0.002, decay_steps=1876, alpha=0.02
)
model.compile(
    optimizer=keras.optimizers.Adam(schedule),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(x_train / 255.0, y_train, batch_size=128, epochs=4,
          validation_data=(x_test / 255.0, y_test))
''',
    training=TrainingSpec(
        "mnist",
        "adam",
        "sparse_categorical_crossentropy",
        batch_size=128,
        epochs=4,
        schedule=Schedule(
            "CosineDecay",
            (("initial_learning_rate", 0.002), ("decay_steps", 1876), ("alpha", 0.02)),
        ),
    ),
)

RESNET20_CIFAR = Preset(
    name="resnet20-cifar",
    title="ResNet-20 for CIFAR-10 (He et al. 2016), as the Keras example builds it",
    origin="keras-team/keras examples/cifar10_resnet.py (Keras 2.2), resnet_v1 with depth "
    "20 (n = 3): 0.27 million parameters; He et al. 2016, table 6, report 8.75% error "
    "(91.25% accuracy) after 64k iterations with augmentation. The example's he_normal "
    "initialisation and L2 penalty (1e-4) are read but not applied: convscope initialises as "
    "Keras's defaults do and adds no penalty",
    source='''\
"""Trains a ResNet on the CIFAR10 dataset (keras-team/keras examples/cifar10_resnet.py).

ResNet v1: [a] Deep Residual Learning for Image Recognition
https://arxiv.org/pdf/1512.03385.pdf
"""
import keras
from keras.layers import Dense, Conv2D, BatchNormalization, Activation
from keras.layers import AveragePooling2D, Input, Flatten
from keras.optimizers import Adam
from keras.regularizers import l2
from keras.models import Model
from keras.datasets import cifar10

batch_size = 32
epochs = 200
num_classes = 10
n = 3
depth = n * 6 + 2  # ResNet20

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
input_shape = x_train.shape[1:]
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)


def resnet_layer(inputs, num_filters=16, kernel_size=3, strides=1,
                 activation='relu', batch_normalization=True):
    """2D Convolution-Batch Normalization-Activation stack builder"""
    conv = Conv2D(num_filters, kernel_size=kernel_size, strides=strides,
                  padding='same', kernel_initializer='he_normal',
                  kernel_regularizer=l2(1e-4))
    x = conv(inputs)
    if batch_normalization:
        x = BatchNormalization()(x)
    if activation is not None:
        x = Activation(activation)(x)
    return x


def resnet_v1(input_shape, depth, num_classes=10):
    """ResNet Version 1 Model builder [a]: stacks of 2 x (3 x 3) Conv2D-BN-ReLU"""
    num_filters = 16
    num_res_blocks = int((depth - 2) / 6)

    inputs = Input(shape=input_shape)
    x = resnet_layer(inputs=inputs)
    for stack in range(3):
        for res_block in range(num_res_blocks):
            strides = 1
            if stack > 0 and res_block == 0:  # first layer but not first stack
                strides = 2  # downsample
            y = resnet_layer(inputs=x, num_filters=num_filters, strides=strides)
            y = resnet_layer(inputs=y, num_filters=num_filters, activation=None)
            if stack > 0 and res_block == 0:  # first layer but not first stack
                # linear projection residual shortcut connection to match changed dims
                x = resnet_layer(inputs=x, num_filters=num_filters, kernel_size=1,
                                 strides=strides, activation=None,
                                 batch_normalization=False)
            x = keras.layers.add([x, y])
            x = Activation('relu')(x)
        num_filters *= 2

    x = AveragePooling2D(pool_size=8)(x)
    y = Flatten()(x)
    outputs = Dense(num_classes, activation='softmax',
                    kernel_initializer='he_normal')(y)
    return Model(inputs=inputs, outputs=outputs)


model = resnet_v1(input_shape=input_shape, depth=depth)
model.compile(loss='categorical_crossentropy', optimizer=Adam(learning_rate=1e-3),
              metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
          validation_data=(x_test, y_test), shuffle=True)
''',
    training=TrainingSpec(
        "cifar10",
        "adam",
        "categorical_crossentropy",
        batch_size=32,
        epochs=200,
        learning_rate=0.001,
    ),
)
