"""The public API, one module per room: what `import convscope` offers.

explaining (explain, presets: no torch) | training (train, resume) | model (load) |
experiments (pooling; Model.probe, Model.occlusion) | comparing (compare: no torch) |
results and shown (the objects they return). `convscope/__init__.py` imports each only
when its name is first used, so `import convscope` stays light.
"""
