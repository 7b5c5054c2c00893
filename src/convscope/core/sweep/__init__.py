"""Sweeps as data: what may vary and how (grammar), the request turned into trials (plan),
the sweep folder's layout (folder, its one owner) and the table of results (results)."""
