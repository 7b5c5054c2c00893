"""Figures as PNG bytes: the shared helpers and the model's own figures (model), receptive
fields (fields) and a run's results (results)."""
