"""convscope as `pip install convscope` leaves it: no extras. The live page works; each
command that needs an extra (ONNX export, --ray, the notebook widget) says in one line
which one to install and exits 2, never a traceback.

The virtual environment holds exactly the plain install's packages: the distributions
that convscope's own metadata requires (its `[project] dependencies`, no extras), and
theirs, linked from the dev environment (a fresh download of torch would take minutes).
A dependency missing from pyproject.toml is missing here too.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.slow  # a fresh process per command, each importing torch

EXTRAS = ("onnx", "onnxruntime", "anywidget", "ray", "keras", "captum", "tensorboard")


def closure(name: str) -> dict[str, Distribution]:
    """The distributions a plain `pip install name` brings: its requirements without extras."""
    found: dict[str, Distribution] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        dist = distribution(current)
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            try:
                distribution(requirement.name)
            except PackageNotFoundError:
                continue  # an optional platform package pip itself left out
            todo.append(requirement.name)
    return found


@pytest.fixture(scope="module")
def plain_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("plain") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    for dist in closure("convscope").values():
        for top in {Path(str(f)).parts[0] for f in dist.files or []} - {".."}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    return venv / "bin" / "python"


def run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_the_plain_install_lacks_every_extra(plain_python: Path) -> None:
    code = f"import importlib.util as u; print([m for m in {EXTRAS!r} if u.find_spec(m)])"
    assert run(plain_python, "-c", code).stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["export", "{run}", "-o", "{tmp}/model.onnx"], "onnx"),
        (
            ["sweep", "chollet", "--grid", "lr=0.001,0.01", "--ray", "--output", "{tmp}/sweep"],
            "ray",
        ),
        (["sweep", "chollet", "--grid", "lr=0.001,0.01", "--ray", "127.0.0.1:6379"], "ray"),
        (
            ["experiment", "pooling", "--model", "chollet", "--ray", "--output", "{tmp}/pooling"],
            "ray",
        ),
        (
            ["sweep", "chollet", "--grid", "lr=0.001,0.01", "--tensorboard", "--output", "{tmp}/s"],
            "tensorboard",
        ),
    ],
    ids=["export-onnx", "sweep-ray", "sweep-ray-address", "pooling-ray", "sweep-tensorboard"],
)
def test_a_command_that_needs_an_extra_names_it_in_one_line(
    plain_python: Path,
    chollet_run: tuple[Path, dict[str, object]],
    tmp_path: Path,
    argv: list[str],
    extra: str,
) -> None:
    args = [a.format(run=chollet_run[0], tmp=tmp_path) for a in argv]
    done = run(plain_python, "-m", "convscope", *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line
    assert f"pip install 'convscope[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_widget_names_its_extra_in_one_line(
    plain_python: Path, chollet_run: tuple[Path, dict[str, object]]
) -> None:
    code = (
        "import convscope as cs\n"
        "try:\n"
        f"    cs.load({str(chollet_run[0])!r}).widget()\n"
        "except cs.ConvscopeError as error:\n"
        "    print(error)\n"
    )
    done = run(plain_python, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, done.stdout
    assert "pip install 'convscope[widget]'" in done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(
    plain_python: Path, chollet_run: tuple[Path, dict[str, object]]
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen(
        [str(plain_python), "-m", "convscope", "serve", str(chollet_run[0]), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(30)


def test_serve_works_after_a_plain_install(served: tuple[str, subprocess.Popen[str]]) -> None:
    base, server = served
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, server.communicate()[1]
        try:
            with urllib.request.urlopen(f"{base}/api/model", timeout=5) as response:
                about = response.read().decode()
            break
        except OSError:
            assert time.monotonic() < deadline, "the server did not answer in 120 s"
            time.sleep(0.5)
    assert re.search(r'"name":\s*"chollet"', about)
    with urllib.request.urlopen(base, timeout=5) as response:
        assert response.status == 200 and b"app.js" in response.read()
