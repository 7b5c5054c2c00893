"""Models for the parity tests: every supported layer, both paddings, strides, dilation,
non-square kernels and strides, odd input sizes, 1- and 3-channel inputs.

Each case is Keras source as a user would write it; convscope reads it with its importer
and the tests compare the result with real Keras 3 and with torch.nn.
"""

from __future__ import annotations

from convscope.core.presets import PRESETS


def seq(input_shape: tuple[int, ...], *layers: str) -> str:
    body = ",\n    ".join(layers)
    return (
        "from keras import layers, Input, Sequential\n"
        f"model = Sequential([\n    Input(shape={input_shape}),\n    {body},\n])\n"
    )


CASES: dict[str, str] = {
    **{f"preset-{name}": preset.source for name, preset in PRESETS.items()},
    "conv-valid-3x3-gray": seq((28, 28, 1), "layers.Conv2D(8, 3)"),
    "conv-same-3x3": seq((28, 28, 1), "layers.Conv2D(8, 3, padding='same')"),
    "conv-same-stride2-even-input": seq(
        (28, 28, 1), "layers.Conv2D(4, 3, strides=2, padding='same')"
    ),
    "conv-same-stride2-odd-input": seq(
        (27, 27, 3), "layers.Conv2D(4, 3, strides=2, padding='same')"
    ),
    "conv-valid-stride2-odd-input": seq((27, 27, 3), "layers.Conv2D(4, 3, strides=2)"),
    "conv-valid-5x5-stride3": seq((32, 32, 3), "layers.Conv2D(4, 5, strides=3)"),
    "conv-nonsquare-kernel": seq((28, 20, 1), "layers.Conv2D(6, (3, 5))"),
    "conv-nonsquare-kernel-list": seq(
        (28, 20, 1), "layers.Conv2D(6, kernel_size=[5, 3], padding='same')"
    ),
    "conv-nonsquare-stride": seq((28, 28, 1), "layers.Conv2D(6, 3, strides=(1, 2))"),
    "conv-nonsquare-stride-same-odd": seq(
        (25, 19, 3), "layers.Conv2D(6, (3, 2), strides=(2, 3), padding='same')"
    ),
    "conv-dilation-2": seq((28, 28, 1), "layers.Conv2D(4, 3, dilation_rate=2)"),
    "conv-dilation-nonsquare-same": seq(
        (21, 28, 1), "layers.Conv2D(4, 3, dilation_rate=(2, 3), padding='same')"
    ),
    "conv-no-bias": seq((28, 28, 1), "layers.Conv2D(16, 3, use_bias=False)"),
    "conv-groups": seq((16, 16, 8), "layers.Conv2D(16, 3, groups=4)"),
    "conv-1x1": seq((14, 14, 3), "layers.Conv2D(10, 1)"),
    "conv-even-kernel-same-odd-input": seq((15, 15, 1), "layers.Conv2D(4, 4, padding='same')"),
    "conv-kernel-equals-input": seq((5, 5, 2), "layers.Conv2D(3, 5)"),
    "cifar-style-rgb": seq(
        (32, 32, 3),
        "layers.Conv2D(32, 3, padding='same', activation='relu')",
        "layers.Conv2D(32, 3, activation='relu')",
        "layers.MaxPooling2D(2)",
        "layers.Dropout(0.25)",
        "layers.Conv2D(64, 3, padding='same', activation='relu')",
        "layers.MaxPooling2D(2)",
        "layers.Flatten()",
        "layers.Dense(512, activation='relu')",
        "layers.Dense(10, activation='softmax')",
    ),
    "maxpool-3-stride-2": seq((28, 28, 1), "layers.MaxPooling2D(3, strides=2)"),
    "maxpool-same-odd-input": seq((27, 27, 1), "layers.MaxPooling2D(2, padding='same')"),
    "maxpool-nonsquare": seq((28, 27, 2), "layers.MaxPooling2D((2, 3))"),
    "avgpool-valid-odd": seq((13, 13, 4), "layers.AveragePooling2D(2)"),
    "avgpool-same-stride1": seq(
        (10, 10, 2), "layers.AveragePooling2D(3, strides=1, padding='same')"
    ),
    "pool-aliases": seq((28, 28, 1), "layers.MaxPool2D(2)", "layers.AvgPool2D(2)"),
    "global-average-then-dense": seq(
        (28, 28, 1), "layers.Conv2D(16, 3)", "layers.GlobalAveragePooling2D()", "layers.Dense(10)"
    ),
    "global-max-keepdims": seq((9, 9, 5), "layers.GlobalMaxPooling2D(keepdims=True)"),
    "global-aliases": seq((9, 9, 5), "layers.GlobalAvgPool2D()", "layers.Dense(3)"),
    "zero-padding-int": seq((28, 28, 1), "layers.ZeroPadding2D(2)", "layers.Conv2D(4, 5)"),
    "zero-padding-pair": seq((28, 28, 1), "layers.ZeroPadding2D((1, 2))"),
    "zero-padding-asymmetric": seq(
        (28, 28, 3), "layers.ZeroPadding2D(((1, 0), (2, 3)))", "layers.Conv2D(2, 3)"
    ),
    "depthwise": seq((28, 28, 3), "layers.DepthwiseConv2D(3)"),
    "depthwise-multiplier-strided-same": seq(
        (27, 27, 3), "layers.DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=2)"
    ),
    "separable": seq((28, 28, 3), "layers.SeparableConv2D(16, 3)"),
    "separable-multiplier-no-bias": seq(
        (20, 20, 4),
        "layers.SeparableConv2D(8, (3, 5), depth_multiplier=3, use_bias=False, padding='same')",
    ),
    "batchnorm-after-conv": seq(
        (28, 28, 1),
        "layers.Conv2D(16, 3, use_bias=False)",
        "layers.BatchNormalization()",
        "layers.ReLU()",
    ),
    "batchnorm-no-center": seq(
        (28, 28, 1),
        "layers.Flatten()",
        "layers.Dense(32)",
        "layers.BatchNormalization(center=False)",
    ),
    "batchnorm-no-scale": seq((8, 8, 6), "layers.BatchNormalization(scale=False, momentum=0.9)"),
    "dense-on-image": seq((28, 28, 1), "layers.Dense(8)"),
    "dense-on-feature-map": seq(
        (28, 28, 1),
        "layers.Conv2D(4, 3)",
        "layers.Dense(6)",
        "layers.Flatten()",
        "layers.Dense(10)",
    ),
    "mlp-flat-input": seq(
        (784,),
        "layers.Dense(128, activation='relu')",
        "layers.Dropout(0.2)",
        "layers.Dense(10, activation='softmax')",
    ),
    "spatial-dropout": seq(
        (28, 28, 1),
        "layers.Conv2D(8, 3)",
        "layers.SpatialDropout2D(0.2)",
        "layers.Flatten()",
        "layers.Dense(10)",
    ),
    "activation-layers": seq(
        (12, 12, 3),
        "layers.Rescaling(1 / 255)",
        "layers.Conv2D(4, 3)",
        "layers.Activation('tanh')",
        "layers.ReLU(max_value=6.0)",
        "layers.LeakyReLU()",
        "layers.Flatten()",
        "layers.Dense(5)",
        "layers.Softmax()",
    ),
    "trainable-false": seq(
        (28, 28, 1),
        "layers.Conv2D(8, 3, trainable=False)",
        "layers.BatchNormalization(trainable=False)",
        "layers.Flatten()",
        "layers.Dense(10)",
    ),
    "odd-input-mixed-stack": seq(
        (29, 31, 1),
        "layers.Conv2D(8, 3)",
        "layers.MaxPooling2D(2)",
        "layers.Conv2D(8, 3, strides=2, padding='same')",
        "layers.MaxPooling2D(2, padding='same')",
        "layers.Flatten()",
        "layers.Dense(10)",
    ),
    "tiny-input": seq(
        (7, 7, 1),
        "layers.Conv2D(4, 3)",
        "layers.MaxPooling2D(2)",
        "layers.Flatten()",
        "layers.Dense(2)",
    ),
    "vgg-block-rgb": seq(
        (64, 64, 3),
        "layers.Conv2D(16, 3, padding='same', activation='relu')",
        "layers.Conv2D(16, 3, padding='same', activation='relu')",
        "layers.MaxPooling2D()",
        "layers.Conv2D(32, 3, padding='same', activation='relu')",
        "layers.Conv2D(32, 3, padding='same', activation='relu')",
        "layers.MaxPooling2D()",
        "layers.GlobalAveragePooling2D()",
        "layers.Dense(10, activation='softmax')",
    ),
    "all-convolutional-strided": seq(
        (28, 28, 1),
        "layers.Conv2D(16, 3, strides=2, padding='same', activation='relu')",
        "layers.Conv2D(32, 3, strides=2, padding='same', activation='relu')",
        "layers.Conv2D(64, 3, strides=2, padding='same', activation='relu')",
        "layers.GlobalMaxPooling2D()",
        "layers.Dense(10)",
    ),
    "big-kernel-strided-same": seq(
        (28, 28, 1),
        "layers.Conv2D(8, 7, strides=2, padding='same')",
        "layers.MaxPooling2D(3, strides=2, padding='same')",
    ),
    "many-names": seq(
        (32, 32, 3),
        "layers.Conv2D(4, 3)",
        "layers.Dropout(0.1)",
        "layers.Conv2D(4, 3)",
        "layers.MaxPooling2D()",
        "layers.Conv2D(4, 3)",
        "layers.Dropout(0.1)",
        "layers.MaxPooling2D()",
        "layers.Flatten()",
        "layers.Dense(8)",
        "layers.Dense(8)",
        "layers.Dense(2)",
    ),
    "user-names": seq(
        (28, 28, 1),
        "layers.Conv2D(4, 3, name='first')",
        "layers.Conv2D(4, 3)",
        "layers.Flatten(name='flat')",
        "layers.Dense(2)",
    ),
    "reshape-flat-to-image": seq(
        (784,),
        "layers.Reshape((28, 28, 1))",
        "layers.Conv2D(4, 3)",
        "layers.Flatten()",
        "layers.Dense(3)",
    ),
    "reshape-minus-one": seq((6, 6, 4), "layers.Reshape((-1, 8))", "layers.Dense(2)"),
    "reshape-image-to-image": seq((8, 6, 2), "layers.Reshape((4, 12, 2))", "layers.Conv2D(2, 3)"),
    "upsampling-nearest": seq((7, 7, 3), "layers.UpSampling2D()", "layers.Conv2D(2, 3)"),
    "upsampling-bilinear-nonsquare": seq(
        (5, 6, 2), "layers.UpSampling2D((2, 3), interpolation='bilinear')"
    ),
    "transpose-valid-stride1": seq((6, 6, 3), "layers.Conv2DTranspose(4, 3)"),
    "transpose-same-stride2": seq(
        (7, 7, 3), "layers.Conv2DTranspose(4, 3, strides=2, padding='same', activation='relu')"
    ),
    "transpose-valid-stride2-even-kernel": seq(
        (5, 5, 2), "layers.Conv2DTranspose(3, 4, strides=2)"
    ),
    "transpose-kernel-below-stride": seq(
        (4, 5, 2),
        "layers.Conv2DTranspose(3, 2, strides=3, padding='same')",
        "layers.Conv2DTranspose(2, 1, strides=2)",
    ),
    "transpose-output-padding": seq(
        (5, 5, 2),
        "layers.Conv2DTranspose(3, 3, strides=2, padding='same', output_padding=1)",
        "layers.Conv2DTranspose(2, (3, 4), strides=(2, 3), output_padding=(0, 2), use_bias=False)",
    ),
    "transpose-dilated": seq((6, 6, 2), "layers.Conv2DTranspose(2, 3, dilation_rate=2)"),
    "decoder": seq(
        (16,),
        "layers.Dense(7 * 7 * 8, activation='relu')",
        "layers.Reshape((7, 7, 8))",
        "layers.Conv2DTranspose(8, 3, strides=2, padding='same', activation='relu')",
        "layers.UpSampling2D()",
        "layers.Conv2D(1, 3, padding='same', activation='sigmoid')",
    ),
    "prelu-and-elu": seq(
        (6, 6, 3),
        "layers.Conv2D(4, 3)",
        "layers.PReLU()",
        "layers.Conv2D(4, 3)",
        "layers.PReLU(shared_axes=[1, 2])",
        "layers.ELU(alpha=0.5)",
        "layers.Flatten()",
        "layers.Dense(3)",
        "layers.PReLU()",
    ),
    "resize-and-crop": seq(
        (20, 17, 3),
        "layers.Resizing(24, 24)",
        "layers.CenterCrop(20, 15)",
        "layers.Resizing(9, 11, interpolation='nearest')",
        "layers.CenterCrop(8, 8)",
        "layers.Resizing(10, 10, interpolation='bicubic')",
    ),
    "augmentation-stack": seq(
        (28, 28, 1),
        "layers.RandomFlip('horizontal')",
        "layers.RandomRotation(0.1)",
        "layers.RandomZoom(0.2, fill_mode='constant')",
        "layers.RandomTranslation(0.1, (-0.2, 0.1), fill_mode='nearest', interpolation='nearest')",
        "layers.Conv2D(4, 3)",
        "layers.Flatten()",
        "layers.Dense(10)",
    ),
}
