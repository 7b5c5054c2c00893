"""Branching models for the graph parity tests: every merge layer, shortcuts (identity and
projection), Inception-style parallel paths, a layer's output read by several layers, a
Sequential called as a layer, helper functions called in loops, names given and not.

Each is Keras source as a user writes it, ending in `model = keras.Model(...)`: the tests
run it in real Keras 3 and read it with convscope's importer, and compare the two.
"""

from __future__ import annotations

HEAD = "import keras\nfrom keras import layers\n"


def graph(input_shape: tuple[int, ...], body: str, output: str = "y") -> str:
    return (
        HEAD
        + f"inputs = keras.Input(shape={input_shape})\n"
        + body.strip()
        + f"\nmodel = keras.Model(inputs, {output})\n"
    )


def merge(cls: str, second: str = "layers.Conv2D(4, 3, padding='same')(inputs)") -> str:
    return graph(
        (12, 12, 3),
        f"a = layers.Conv2D(4, 3, padding='same', activation='relu')(inputs)\n"
        f"b = {second}\n"
        f"m = layers.{cls}()([a, b])\n"
        "y = layers.Dense(5)(layers.GlobalAveragePooling2D()(m))",
    )


RESNET_BLOCK = """
def residual_block(x, filters, stride=1):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.add([y, shortcut])
    return layers.Activation("relu")(y)
"""

INCEPTION = """
def inception(x, f1, f3, f5, fp):
    p1 = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    p3 = layers.Conv2D(f3, 1, padding="same", activation="relu")(x)
    p3 = layers.Conv2D(f3, 3, padding="same", activation="relu")(p3)
    p5 = layers.Conv2D(f5, 1, padding="same", activation="relu")(x)
    p5 = layers.Conv2D(f5, 5, padding="same", activation="relu")(p5)
    pp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    pp = layers.Conv2D(fp, 1, padding="same", activation="relu")(pp)
    return layers.concatenate([p1, p3, p5, pp])
"""

INVERTED = """
def inverted_residual(x, expansion, filters, stride):
    channels = x.shape[-1]
    y = layers.Conv2D(expansion * channels, 1, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU(6.0)(y)
    y = layers.Conv2D(filters, 1, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride == 1 and channels == filters:
        return layers.Add()([x, y])
    return y
"""

GRAPH_CASES: dict[str, str] = {
    **{f"merge-{c.lower()}": merge(c) for c in ("Add", "Multiply", "Average", "Maximum")},
    "merge-minimum": merge("Minimum"),
    "merge-subtract": merge("Subtract"),
    "merge-concatenate-channels": merge(
        "Concatenate", "layers.Conv2D(6, 3, padding='same')(inputs)"
    ),
    "merge-add-broadcast-one-channel": merge("Add", "layers.Conv2D(1, 3, padding='same')(inputs)"),
    "merge-functions": graph(
        (10, 10, 2),
        "a = layers.Conv2D(4, 3, padding='same')(inputs)\nb = layers.Conv2D(4, 1)(inputs)\n"
        "s = layers.add([a, b])\nd = layers.subtract([a, b])\nm = layers.multiply([s, d])\n"
        "v = layers.average([m, a, b])\nx = layers.maximum([v, s])\nn = layers.minimum([x, d])\n"
        "c = layers.concatenate([n, x], axis=-1)\ny = layers.Dense(3)(layers.Flatten()(c))",
    ),
    "concatenate-rows": graph(
        (8, 8, 2),
        "a = layers.Conv2D(3, 3, padding='same')(inputs)\nb = layers.Conv2D(3, 1)(inputs)\n"
        "c = layers.Concatenate(axis=1)([a, b])\ny = layers.Dense(2)(layers.Flatten()(c))",
    ),
    "concatenate-columns-flat": graph(
        (6, 6, 1),
        "a = layers.Flatten()(layers.Conv2D(2, 3)(inputs))\nb = layers.Flatten()(inputs)\n"
        "y = layers.Dense(4)(layers.Concatenate()([a, b]))",
    ),
    "identity-shortcut": graph(
        (16, 16, 8),
        "x = layers.Conv2D(8, 3, padding='same', activation='relu')(inputs)\n"
        "x = layers.Conv2D(8, 3, padding='same')(x)\nx = layers.Add()([x, inputs])\n"
        "y = layers.Dense(10)(layers.GlobalAveragePooling2D()(layers.ReLU()(x)))",
    ),
    "resnet-blocks-in-a-loop": graph(
        (32, 32, 3),
        RESNET_BLOCK + "x = layers.Conv2D(16, 3, padding='same')(inputs)\n"
        "for filters, stride in [(16, 1), (32, 2), (64, 2)]:\n"
        "    x = residual_block(x, filters, stride)\n"
        "y = layers.Dense(10, activation='softmax')(layers.GlobalAveragePooling2D()(x))",
    ),
    "resnet-two-blocks-per-stage": graph(
        (28, 28, 1),
        RESNET_BLOCK + "x = layers.Conv2D(8, 3, padding='same')(inputs)\n"
        "for filters in (8, 16):\n"
        "    for i in range(2):\n"
        "        x = residual_block(x, filters, 2 if (i == 0 and filters != 8) else 1)\n"
        "y = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))",
    ),
    "inception-module": graph(
        (32, 32, 3),
        INCEPTION + "x = inception(inputs, 8, 12, 4, 4)\nx = inception(x, 16, 16, 8, 8)\n"
        "y = layers.Dense(10)(layers.GlobalMaxPooling2D()(x))",
    ),
    "mobilenet-inverted-residuals": graph(
        (32, 32, 3),
        INVERTED + "x = layers.Conv2D(16, 3, strides=2, padding='same')(inputs)\n"
        "x = inverted_residual(x, 1, 16, 1)\nx = inverted_residual(x, 6, 24, 2)\n"
        "x = inverted_residual(x, 6, 24, 1)\n"
        "y = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))",
    ),
    "densenet-concatenations": graph(
        (16, 16, 4),
        "x = inputs\nfor i in range(3):\n"
        "    h = layers.BatchNormalization()(x)\n    h = layers.Activation('relu')(h)\n"
        "    h = layers.Conv2D(4, 3, padding='same')(h)\n"
        "    x = layers.Concatenate()([x, h])\n"
        "y = layers.Dense(3)(layers.GlobalAveragePooling2D()(x))",
    ),
    "one-output-read-three-times": graph(
        (9, 9, 2),
        "t = layers.Conv2D(4, 3, padding='same')(inputs)\n"
        "a = layers.Conv2D(4, 1)(t)\nb = layers.Conv2D(4, 3, padding='same')(t)\n"
        "y = layers.Flatten()(layers.add([a, b, t]))",
    ),
    "named-layers": graph(
        (20, 20, 3),
        "a = layers.Conv2D(8, 3, padding='same', name='left')(inputs)\n"
        "b = layers.Conv2D(8, 5, padding='same', name='right')(inputs)\n"
        "m = layers.Add(name='join')([a, b])\n"
        "y = layers.Dense(2, name='head')(layers.GlobalAveragePooling2D(name='gap')(m))",
    ),
    "named-input-and-model": (
        HEAD + "inputs = keras.Input(shape=(12, 12, 1), name='image')\n"
        "a = layers.Conv2D(2, 3, padding='same')(inputs)\n"
        "y = layers.Flatten()(layers.Concatenate()([a, inputs]))\n"
        "model = keras.Model(inputs=inputs, outputs=y, name='two_paths')\n"
    ),
    "strided-paths-with-padding": graph(
        (15, 15, 1),
        "a = layers.Conv2D(4, 3, strides=2, padding='same')(inputs)\n"
        "b = layers.ZeroPadding2D(1)(inputs)\nb = layers.MaxPooling2D(3, strides=2)(b)\n"
        "b = layers.Conv2D(4, 1)(b)\ny = layers.Flatten()(layers.add([a, b]))",
    ),
    "dilated-and-plain-paths": graph(
        (17, 17, 2),
        "a = layers.Conv2D(3, 3, dilation_rate=2, padding='same')(inputs)\n"
        "b = layers.SeparableConv2D(3, 5, padding='same')(inputs)\n"
        "y = layers.Dense(2)(layers.GlobalAveragePooling2D()(layers.maximum([a, b])))",
    ),
    "dense-heads-merged": graph(
        (8, 8, 1),
        "f = layers.Flatten()(inputs)\na = layers.Dense(16, activation='relu')(f)\n"
        "b = layers.Dense(16, activation='tanh')(f)\nm = layers.Multiply()([a, b])\n"
        "y = layers.Dense(4, activation='softmax')(layers.Dropout(0.5)(m))",
    ),
    "frozen-branch": graph(
        (12, 12, 3),
        "a = layers.Conv2D(4, 3, padding='same', trainable=False)(inputs)\n"
        "a = layers.BatchNormalization(trainable=False)(a)\n"
        "b = layers.Conv2D(4, 3, padding='same')(inputs)\n"
        "y = layers.Dense(2)(layers.GlobalAveragePooling2D()(layers.Average()([a, b])))",
    ),
    "upsampling-skip-unet": graph(
        (16, 16, 1),
        "d1 = layers.Conv2D(4, 3, padding='same', activation='relu')(inputs)\n"
        "p1 = layers.MaxPooling2D()(d1)\nd2 = layers.Conv2D(8, 3, padding='same')(p1)\n"
        "u1 = layers.UpSampling2D()(d2)\nc1 = layers.Concatenate()([u1, d1])\n"
        "y = layers.Conv2D(1, 1, activation='sigmoid')(c1)",
    ),
}

# A Sequential called as a layer: Keras's summary shows it as one row, convscope as the
# layers it holds (said in a note); the totals and the output agree.
NESTED = graph(
    (28, 28, 1),
    "block = keras.Sequential([layers.Conv2D(4, 3), layers.MaxPooling2D()])\n"
    "x = block(inputs)\nb = layers.Conv2D(4, 3, padding='same')(x)\n"
    "y = layers.Dense(10)(layers.Flatten()(layers.add([x, b])))",
)
