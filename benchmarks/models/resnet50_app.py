"""keras.applications.ResNet50 as a user would explain it (benchmarks/explain_startup.py)."""

import keras

model = keras.applications.ResNet50(weights=None)
