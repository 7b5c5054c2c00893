"""convscope: understand and train small Keras-style convolutional networks."""

__version__ = "0.1.0"
