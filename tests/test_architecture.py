"""The floors of ARCHITECTURE.md, enforced: who may import whom.

core     -> the standard library only (so `convscope explain` never loads torch or numpy)
runtime  -> core, torch, numpy; never present, api or cli
present  -> core, runtime (the view it draws); never api or cli
api      -> core, runtime, present; never cli
cli      -> api and core only: every command is a call of the public API
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from .helpers import fresh_python

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


@pytest.mark.parametrize("path", files("core"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_only_the_standard_library(path: Path) -> None:
    for module in imports_of(path):
        top = module.split(".")[0]
        if top == "convscope":
            assert module.startswith("convscope.core"), f"{path.name} imports {module}"
        else:
            assert top in sys.stdlib_module_names or top == "__future__", (
                f"{path.name} imports {module}"
            )


@pytest.mark.parametrize(
    ("floor", "above"),
    [
        ("runtime", ("convscope.present", "convscope.api", "convscope.cli")),
        ("present", ("convscope.api", "convscope.cli")),
        ("api", ("convscope.cli",)),
    ],
)
def test_no_floor_imports_a_floor_above_it(floor: str, above: tuple[str, ...]) -> None:
    for path in files(floor):
        for module in imports_of(path):
            assert not module.startswith(above), f"{floor}/{path.name} imports {module}"


@pytest.mark.parametrize("path", files("cli"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_cli_calls_the_public_api_only(path: Path) -> None:
    allowed = ("convscope.api", "convscope.core", "convscope.cli")
    for module in imports_of(path):
        if module.startswith("convscope"):
            assert module.startswith(allowed) or module == "convscope", (
                f"cli/{path.name} imports {module}"
            )


def test_no_source_file_is_over_400_lines() -> None:
    long = {
        p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long


# owner -> the file and folder names only it may spell
LAYOUTS = {
    "core/rundir.py": (
        r"[\"'](settings\.json|model\.py|weights\.safetensors|checkpoint\.safetensors|"
        r"history\.(json|csv)|metrics\.json|probe\.(json|png)|report\.html|experiment\.json|"
        r"pooling\.(json|md|png)|compare\.(json|md|png))[\"']|/\s*[\"'](figures|experiments|runs)[\"']"
    ),
    "core/sweep/folder.py": (
        r"[\"'](sweep\.(json|png)|results(\.(json|csv|md))?)[\"']|/\s*[\"'](attempts|sweeps)[\"']"
    ),
    "api/site.py": r"[\"'](data\.js|explain\.html)[\"']",  # a shared page's folder
}


@pytest.mark.parametrize("owner", LAYOUTS)
def test_one_module_spells_each_folders_file_names(owner: str) -> None:
    """The run directory (core/rundir.py), the sweep folder (core/sweep/folder.py) and a
    shared page's folder (api/site.py)."""
    names = re.compile(LAYOUTS[owner])
    spelling = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if any(names.search(line) for line in code_lines(p))
    )
    assert spelling == [owner]


def code_lines(path: Path) -> list[str]:
    """The file's lines of code: docstrings and comments left out (prose may name files)."""
    tree = ast.parse(path.read_text())
    prose = {
        n.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        for n in [node]
    }
    docs: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            docs.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = path.read_text().splitlines()
    return [line.split("#")[0] for i, line in enumerate(lines, 1) if i not in docs | prose]


def test_explain_loads_neither_torch_nor_numpy() -> None:
    code = (
        "import sys, io\n"
        "from convscope.cli import main\n"
        "out = io.StringIO()\n"
        "assert main(['explain', 'keras-mnist-cnn', '--json'], stdout=out) == 0\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'keras', 'matplotlib', 'jinja2') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    assert fresh_python(code) == "none"


@pytest.mark.parametrize(
    "module", ["convscope", "convscope.api.explaining", "convscope.api.comparing"]
)
def test_light_modules_load_no_torch(module: str) -> None:
    code = f"import sys, {module}\nprint('torch' in sys.modules or 'numpy' in sys.modules)"
    if module == "convscope.api.comparing":  # matplotlib draws the curves, which needs numpy
        code = f"import sys, {module}\nprint('torch' in sys.modules)"
    assert fresh_python(code) == "False"


@pytest.mark.parametrize(
    "folder",
    sorted({p.parent for p in PACKAGE.rglob("*.py")}),
    ids=lambda p: str(p.relative_to(PACKAGE.parent)),
)
def test_a_subject_of_several_modules_is_a_package_not_a_name_prefix(folder: Path) -> None:
    """`core/keras/config.py`, not `core/keras_config.py` beside `core/keras_names.py`."""
    prefixes: dict[str, list[str]] = {}
    for path in folder.glob("*.py"):
        if "_" in path.stem.strip("_"):
            prefixes.setdefault(path.stem.split("_")[0], []).append(path.name)
    assert not {prefix: names for prefix, names in prefixes.items() if len(names) > 1}
