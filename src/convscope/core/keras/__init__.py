"""Keras's own vocabulary, as data: its layer constructors and names (layers, names), binding
a call to them (bind), Keras 1 spellings (legacy), saved configs and .keras archives
(config, archive), and writing a model back as Keras source or config (write, save)."""
