"""Reading Keras source without running it: the entry (read), the interpreter's values and
budget (values), expressions (expressions), statements and calls (interpreter), the Keras
calls (calls) and the shapes of the data a script loads (data)."""
