"""The live page as a notebook widget (anywidget), in a real Jupyter kernel: it renders
as a widget view, loads the page's own module, and answers a request sent to it the way
the page sends one (a custom widget message) with the same JSON the server gives."""

from __future__ import annotations

import json
import os
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # a kernel start

CELLS = [
    "import convscope as cs\nw = cs.load('chollet', seed=0).widget()\nw",
    "sent = []\nreal_send = w.send\nw.send = lambda content, buffers=None: (sent.append(content), real_send(content, buffers))\n"
    "request = {'id': 7, 'kind': 'predict', 'body': {'pixels': [[0] * 28] * 14 + [[0] * 12 + [255] * 4 + [0] * 12] * 14}}\n"
    "w._handle_custom_msg(request, [])  # what a page's model.send() arrives as\n"
    "import json\nprint(json.dumps({'id': sent[0]['id'], 'predicted': sent[0]['result']['predicted'],\n"
    "  'layers': [layer['name'] for layer in sent[0]['result']['layers']], 'esm': 'export default' in w._esm}))",
    "w._handle_custom_msg({'id': 8, 'kind': 'predict', 'body': {'pixels': [[0] * 27]}}, [])\nprint(json.dumps(sent[-1]))",
]


def test_the_widget_in_a_kernel(tmp_path: Any) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(notebook, timeout=300, kernel_name="python3", iopub_timeout=60,
                   raise_on_iopub_timeout=True,  # late output: an error, not a missing cell
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env={**os.environ})  # fmt: skip
    view = notebook.cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in view
    reply = json.loads(notebook.cells[1].outputs[0]["text"])
    assert reply["id"] == 7 and reply["esm"] and 0 <= reply["predicted"] <= 9
    assert reply["layers"][:3] == ["input", "conv2d", "max_pooling2d"]
    refused = json.loads(notebook.cells[2].outputs[0]["text"])
    assert refused == {"id": 8, "error": "pixels must be 28 rows of 28 numbers from 0 to 255"}
