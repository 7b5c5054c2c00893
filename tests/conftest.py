from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .helpers import QUICK, Cli, run_cli

os.environ.setdefault("KERAS_BACKEND", "torch")


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
