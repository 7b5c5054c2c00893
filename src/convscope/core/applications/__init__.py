"""keras.applications models, read from their Keras source here as a user's file is read
(no weights are needed to explain one); checked against keras.applications built with
weights=None (tests/parity/test_applications.py).

Each entry is the Keras source that defines the function of that name; the importer runs
it when a file calls `keras.applications.VGG16(...)` (or `...vgg16.VGG16`).
"""

from __future__ import annotations

from . import mobilenet, resnet, vgg

SOURCES = {
    "VGG16": vgg.SOURCE,
    "VGG19": vgg.SOURCE,
    "ResNet50": resnet.SOURCE,
    "MobileNetV2": mobilenet.SOURCE,
}

# The weights file each one loads with weights="imagenet", in Keras's cache
# (~/.keras/models/), with and without the top (include_top).
WEIGHTS = {
    "VGG16": ("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
              "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "VGG19": ("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
              "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "ResNet50": ("resnet50_weights_tf_dim_ordering_tf_kernels.h5",
                 "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "MobileNetV2": ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
                    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
}  # fmt: skip
