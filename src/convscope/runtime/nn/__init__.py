"""The torch model with Keras's semantics: ModelSpec -> nn.Module (model), activations and
initialisers (ops), the grid and random layers (layers), the fused training pass (fused)
and Keras's Dropout with a fast CPU mask (dropout)."""
