from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import QUICK, Cli, Server, run_cli

os.environ.setdefault("KERAS_BACKEND", "torch")
# Keras's own cache (~/.keras/datasets) is a place convscope looks for data: the tests
# start from an empty one, whatever this machine's Keras has downloaded.
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="convscope-tests-keras-")
# A Ray node's own working folder (sweeps --ray): not this machine's ~/.cache.
os.environ["CONVSCOPE_NODE_DIR"] = tempfile.mkdtemp(prefix="convscope-tests-node-")


@pytest.fixture
def cli() -> Cli:
    """cli(*argv, stdin="") -> Result: run_cli as a fixture."""
    return run_cli


@pytest.fixture(scope="session")
def chollet_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """chollet, one epoch on the first 20,000 MNIST training images (313 batches).

    Shared by the whole session (training takes a few seconds): tests only read it, or
    copy it before they change anything.
    """
    root = tmp_path_factory.mktemp("runs")
    code, out, err = run_cli("train", "chollet", *QUICK, "--json", "--runs-dir", str(root))
    assert code == 0, err
    result = json.loads(out)
    return Path(str(result["run_dir"])), result


@pytest.fixture
def server() -> Iterator[Server]:
    """An HTTP server on 127.0.0.1 (routes set by the test), shut down after it."""
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()
