"""The layers of ARCHITECTURE.md, enforced: who may import whom.

core     -> the standard library only (so `convscope explain` never loads torch or numpy)
runtime  -> core, torch, numpy; never present or cli
present  -> core (runtime only where a renderer needs tensors); never cli
cli      -> anything, but imports runtime lazily inside the commands that train
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "convscope"


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports, relative imports resolved against the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
    return found


def files(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("path", files("core"), ids=lambda p: p.name)
def test_core_imports_only_the_standard_library(path: Path) -> None:
    for module in imports_of(path):
        top = module.split(".")[0]
        if top == "convscope":
            assert module.startswith("convscope.core"), f"{path.name} imports {module}"
        else:
            assert top in sys.stdlib_module_names or top == "__future__", (
                f"{path.name} imports {module}"
            )


@pytest.mark.parametrize("path", files("runtime"), ids=lambda p: p.name)
def test_runtime_does_not_import_cli_or_present(path: Path) -> None:
    for module in imports_of(path):
        assert not module.startswith(("convscope.cli", "convscope.present")), (
            f"{path.name} imports {module}"
        )


@pytest.mark.parametrize("path", files("present"), ids=lambda p: p.name)
def test_present_does_not_import_cli(path: Path) -> None:
    for module in imports_of(path):
        assert not module.startswith("convscope.cli"), f"{path.name} imports {module}"


def test_explain_loads_neither_torch_nor_numpy() -> None:
    code = (
        "import sys, io\n"
        "from convscope.cli import main\n"
        "out = io.StringIO()\n"
        "assert main(['explain', 'keras-mnist-cnn', '--json'], stdout=out) == 0\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'keras', 'matplotlib', 'jinja2') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "none"
