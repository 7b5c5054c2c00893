from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __iter__(self) -> Iterator[object]:  # code, out, err = cli(...)
        return iter((self.code, self.out, self.err))


Cli = Callable[..., Result]


def run_cli(*argv: str, stdin: str = "") -> Result:
    """Run convscope's main() in-process, as a user would run the command."""
    from convscope.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Cli:
    """cli(*argv, stdin="") -> Result: run_cli as a fixture."""
    return run_cli


QUICK = ["--train-images", "20000", "--epochs", "1", "--seed", "3", "--quiet"]


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
