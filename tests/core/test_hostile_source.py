"""Hostile and odd input to `convscope explain`, each run as a user would run it: a fresh
process with a time limit and a memory cap. Every one ends in one clear message and
exit code 2 (never a traceback, a hang or gigabytes), with nothing on stdout."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

MEMORY = 1_500_000_000  # bytes of address space for one explain: far above its ~60 MB
SECONDS = 30

HEAD = "from keras import layers, Sequential\n"
MODEL = "model = Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10)])\n"

# name -> (source, exit code, words the message (2) or the output (0) must hold). Refused
# cases are past the budget; explained ones hold junk a model file need not compute.
SOURCES: dict[str, tuple[str, int, str]] = {
    "power-chain": ("x = 10**64\n" + "x = x**64\n" * 6 + MODEL, 2, "far too large"),
    "square-chain": ("x = 3\n" + "x = x*x\n" * 40 + MODEL, 2, "far too large"),
    "round-huge-ndigits": ("x = round(5, -10**10)\n" + MODEL, 2, "far too large"),
    "shared-sublists": (
        "a = [1]\n" + "a = [a, a]\n" * 80 + "b = len(str(a))\n" + MODEL,
        2,
        "too large",
    ),
    "sum-of-lists": ("x = sum([[0]*100000]*100000, [])\n" + MODEL, 2, "too large"),
    "zip-star-huge": ("L = [[0]*1000]*100000\nx = list(zip(*L))\n" + MODEL, 2, "too large"),
    "module-path": ("import keras\nx = keras\n" + "x = x.keras\n" * 60000 + MODEL, 2, "too long"),
    "string-times": ("s = 'a' * 100000\nt = s * 100000\n" + MODEL, 2, "too large"),
    "list-extend-self": ("l = [1]\n" + "l.extend(l)\n" * 40 + MODEL, 2, "too large"),
    "model-add-self": (
        HEAD + "model = Sequential([layers.Dense(2)])\n" + "model.add(model)\n" * 40,
        2,
        "to itself",
    ),
    "range-1e20": ("x = range(10**20)\n" + MODEL, 0, "7,850"),
    "round-inf": ("x = round(1e308*10)\n" + MODEL, 0, "7,850"),
    "dense-huge-units": (
        HEAD
        + "model = Sequential([layers.Input((28,28,1)), layers.Flatten(), layers.Dense(10**64)])\n",
        2,
        "at most",
    ),
    "nested-unary": ("x = " + "-" * 100_000 + "1\n" + MODEL, 2, "nested too deeply"),
    "long-sum": ("x = " + " + ".join(["1"] * 5000) + "\n" + MODEL, 2, "nested too deeply"),
    "slice-step-zero": ("x = [1, 2, 3][::0]\n" + MODEL, 0, "7,850"),
    "dense-int-kwargs": (
        HEAD
        + "model = Sequential([layers.Input((28,28,1)), layers.Flatten(), layers.Dense(4, **{1: 2})])\n",
        2,
        "keyword",
    ),
    "while-true": (HEAD + "while True:\n    pass\n" + MODEL, 0, "7,850"),
    "for-1e9": (HEAD + "for _ in range(10**9):\n    pass\n" + MODEL, 0, "7,850"),
    "while-builds": (
        HEAD + "model = Sequential([layers.Input((28,28,1)), layers.Flatten()])\n"
        "while True:\n    model.add(layers.Dense(10))\n",
        2,
        "a while loop is not followed",
    ),
    "for-1e9-builds": (
        HEAD + "model = Sequential([layers.Input((28,28,1)), layers.Flatten()])\n"
        "for _ in range(10**9):\n    model.add(layers.Dense(10))\n",
        2,
        "a range too long to follow",
    ),
    "busy-loop": (
        "x = 0\nfor i in range(100000):\n    for j in range(100000):\n        x = x + 1\n" + MODEL,
        2,
        "too much work",
    ),
    # formatting is sized before it is made; a huge number is never printed whole
    "printf-width": ("x = '%0999999999d' % 1\n" + MODEL, 2, "formatting with % would make"),
    "printf-precision": ("x = '%.999999999f' % 1.5\n" + MODEL, 2, "formatting with % would make"),
    "printf-width-of-5000-digits": ("x = '%0" + "9" * 5000 + "d' % 1\n" + MODEL, 2, "formatting"),
    "printf-width-from-args": ("x = '%*d' % (999999999, 1)\n" + MODEL, 0, "7,850"),
    "fstring-width": ("x = f'{1:0999999999d}'\n" + MODEL, 2, "formatting with '0999999999d'"),
    "fstring-of-many-parts": (
        "s = 'x' * 90000\nx = f'" + "{s}" * 12 + "'\n" + MODEL,
        2,
        "f-string",
    ),
    "fstring-format-names-a-layer": (
        HEAD + "model = Sequential([layers.Input((28,28,1)), layers.Flatten(), "
        "layers.Dense(10, name=f'out_{3:02d}')])\n",
        0,
        "out_03 (Dense)",
    ),
    "huge-hex-literal-units": (
        HEAD
        + "model = Sequential([layers.Input((28,28,1)), layers.Flatten(), layers.Dense(0x"
        + "f" * 5000
        + ")])\n",
        2,
        "a number of 20,000 bits is far too large",
    ),
    "huge-literal-in-input-shape": (
        HEAD + "n = 0x" + "f" * 5000 + "\nmodel = Sequential([layers.Input((28,28,n)), "
        "layers.Flatten(), layers.Dense(10)])\n",
        2,
        "far too large",
    ),
    "add-a-class": (
        HEAD + "model = Sequential()\nmodel.add(layers.Dense)\n",
        2,
        "call it, as in Dense(...)",
    ),
}


def explain(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    return subprocess.run(
        [sys.executable, "-m", "convscope", "explain", *args],
        input=stdin,
        capture_output=True,
        timeout=SECONDS,
        preexec_fn=limits,
        env={**os.environ, **(env or {})},
    )


def assert_refused(result: subprocess.CompletedProcess[bytes], words: str) -> None:
    err = result.stderr.decode(errors="replace")
    assert result.returncode == 2, err[-2000:]
    assert "Traceback" not in err and result.stdout == b""
    assert words in err, err[-2000:]
    assert len(err.splitlines()) <= 3 and len(err) < 2000, err[:2000]


@pytest.fixture(scope="module")
def explained(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[bytes]]:
    """Every case's own process, two at a time (each is one light process: no torch)."""
    folder = tmp_path_factory.mktemp("hostile")
    for case, (source, _, _) in SOURCES.items():
        (folder / f"{case}.py").write_text(source)
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda case: explain(str(folder / f"{case}.py")), SOURCES)
        return dict(zip(SOURCES, done, strict=True))


@pytest.mark.parametrize("case", SOURCES)
def test_hostile_source_is_bounded(
    case: str, explained: dict[str, subprocess.CompletedProcess[bytes]]
) -> None:
    _, code, words = SOURCES[case]
    result = explained[case]
    if code == 2:
        assert_refused(result, words)
    else:
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        assert words in result.stdout.decode()


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (["/dev/zero"], None, "not a regular file"),
        (["/dev/urandom"], None, "not a regular file"),
        (["-"], b"\xff\xfe\x00binary" * 100, "not UTF-8"),
        (["-"], b"x = 1\n" * 400_000, "larger than"),
        ([""], None, "give a preset"),
        (["a" * 5000 + ".py"], None, "no preset or file"),
    ],
    ids=["dev-zero", "dev-urandom", "binary-stdin", "huge-stdin", "empty-name", "long-name"],
)
def test_unbounded_or_odd_reading_is_refused(
    args: list[str], stdin: bytes | None, words: str
) -> None:
    assert_refused(explain(*args, stdin=stdin), words)


def test_a_large_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_text("x = 1\n" * 1_000_000)  # 6 MB of statements
    assert_refused(explain(str(path)), "larger than")


def test_a_utf8_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + (HEAD + MODEL).encode())
    result = explain(str(path))
    assert result.returncode == 0, result.stderr
    assert b"7,850" in result.stdout


def test_an_ascii_terminal_gets_an_ascii_table(tmp_path: Path) -> None:
    result = explain("chollet", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert b"93,322" in result.stdout and b"Traceback" not in result.stderr


def test_a_broken_pipe_is_quiet() -> None:
    command = f"{sys.executable} -m convscope explain chollet | head -c 100 > /dev/null"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, timeout=SECONDS
    )
    assert b"Traceback" not in result.stderr and b"BrokenPipe" not in result.stderr


def test_a_full_disk_is_one_message() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "convscope", "explain", "chollet"],
                                stdout=full, stderr=subprocess.PIPE, timeout=SECONDS)  # fmt: skip
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"cannot write" in result.stderr


def shell(command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bash", "-c", command], capture_output=True, timeout=SECONDS,
                          env={**os.environ, **(env or {})})  # fmt: skip


@pytest.mark.parametrize(
    ("redirect", "code", "words"),
    [
        ("- <&-", 2, b"there is no standard input to read (it is closed)"),
        ("chollet >&-", 1, b"standard output is closed: nothing could be printed"),
    ],
    ids=["stdin-closed", "stdout-closed"],
)
def test_closed_streams_get_one_message(redirect: str, code: int, words: bytes) -> None:
    result = shell(f"{sys.executable} -m convscope explain {redirect}")
    assert result.returncode == code and words in result.stderr
    assert b"Traceback" not in result.stderr


def test_a_windows_code_page_gets_what_it_can_encode() -> None:
    source = (
        "from keras import layers, Sequential, Input\n"
        "model = Sequential([Input((28, 28, 1)), layers.Flatten(name='naïve_€_日本'), "
        "layers.Dense(10)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "convscope", "explain", "-"],
        input=source.encode(),
        capture_output=True,
        timeout=SECONDS,
        env={**os.environ, "PYTHONIOENCODING": "cp1252"},
    )
    assert result.returncode == 0, result.stderr
    assert "naïve_€_?? (Flatten)".encode("cp1252") in result.stdout  # what cp1252 lacks: ?
    assert b"+=====" in result.stdout and b"7,850" in result.stdout  # an ASCII table
