"""VGG16 and VGG19 (Simonyan & Zisserman 2014) as keras/src/applications/vgg16.py and
vgg19.py build them: the same layers, names and options, in Keras source."""

SOURCE = """\
import keras
from keras import layers


def _vgg(convs, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation, name):
    if input_shape is None:
        input_shape = (224, 224, 3)
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
    else:
        img_input = input_tensor
    x = img_input
    for block, (filters, count) in enumerate(zip((64, 128, 256, 512, 512), convs), 1):
        for i in range(1, count + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(img_input, x, name=name)


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    return _vgg((2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling,
                classes, classifier_activation, name)


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    return _vgg((2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling,
                classes, classifier_activation, name)
"""
