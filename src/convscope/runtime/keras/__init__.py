"""Trained Keras files in torch: reading .keras / .h5 as data (read), their arrays in the
torch model (weights, load), and writing a model as .keras or ONNX (export)."""
