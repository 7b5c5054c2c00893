from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


@pytest.fixture
def cli() -> object:
    """Run convscope's main() in-process: cli(*argv, stdin="") -> Result."""
    from convscope.cli import main

    def run(*argv: str, stdin: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
        return Result(code, out.getvalue(), err.getvalue())

    return run
