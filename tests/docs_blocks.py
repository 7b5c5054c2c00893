"""The README's and docs' code blocks, links and anchors, read as data for tests/test_docs.py.

A fenced block may be preceded by a marker comment on the line before it:

    <!-- docs-test: skip: why -->    its commands are not run (too long, a server, a GPU...)
    <!-- docs-test: run -->          a Python block that is run (Python runs only when marked)
    <!-- docs-test: output -->       a text block showing the previous block's command's
                                     output: its lines (blank and `...` lines aside) must
                                     appear in that output, in that order

Every `convscope ...` line of a bash block is a command; `cat FILE | convscope ...` gives
the file on standard input; a `#` starts a comment; `...` or an unknown `<placeholder>` in
a command that is not skipped is an error of the docs, not of the test.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|run|output)\b:?\s*(.*?)\s*-->")
FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # the fence's line, 1-based
    lang: str
    text: str
    marker: str | None  # "skip", "run" or "output"
    reason: str
    expected: str | None = None  # the output block after it

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path, text: str | None = None) -> list[Block]:
    lines = (path.read_text() if text is None else text).splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1))),
                   len(lines))  # fmt: skip
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = MARKER.search(before)
        found.append(Block(path, i + 1, fence.group(2), "\n".join(lines[i + 1 : end]),
                           mark.group(1) if mark else None, mark.group(2) if mark else ""))  # fmt: skip
        i = end + 1
    for n, block in enumerate(found[1:], 1):
        if block.marker == "output":
            found[n - 1] = replace(found[n - 1], expected=block.text)
    return found


def shown_in(expected: str, output: str) -> str | None:
    """The first shown line missing from `output` (in order), or None."""
    lines, at = output.splitlines(), 0
    for want in expected.splitlines():
        if not want.strip() or want.strip() == "...":
            continue
        at = next((i for i in range(at, len(lines)) if lines[i].rstrip() == want.rstrip()), -1)
        if at < 0:
            return want
    return None


@dataclass(frozen=True)
class Command:
    block: Block
    argv: tuple[str, ...]  # after `convscope`
    stdin_file: str | None  # `cat FILE | convscope ...`

    @property
    def text(self) -> str:
        return "convscope " + " ".join(self.argv)


def commands(block: Block) -> list[Command]:
    """The `convscope` commands of a bash block, continuation lines joined."""
    if block.lang not in ("bash", "sh", "console", "shell"):
        return []
    joined = block.text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        for part in line.split(";"):
            part = part.strip().removeprefix("$ ")
            stdin = None
            piped = re.match(r"cat\s+(\S+)\s*\|\s*(convscope\s.*)", part)
            if piped:
                stdin, part = piped.group(1), piped.group(2)
            if not part.startswith("convscope "):
                continue
            words = shlex.split(part, comments=True)
            found.append(Command(block, tuple(words[1:]), stdin))
    return found


def python_snippets(block: Block) -> str | None:
    return block.text if block.lang == "python" and block.marker == "run" else None


# ---- links ----


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\*", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    inside = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            inside = not inside
        if inside or not line.startswith("#"):
            continue
        base = slug(line.lstrip("#"))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link and image outside code blocks."""
    found, inside = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if inside:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for match in LINK.finditer(line):
            found.append((number, match.group(1) or match.group(2)))
    return found


def broken_link(path: Path, target: str) -> str | None:
    """Why a relative link does not resolve (None when it does; web links are not fetched)."""
    if re.match(r"[a-z]+:", target):
        return None
    file, _, anchor = target.partition("#")
    goal = (path.parent / file).resolve() if file else path
    if not goal.exists():
        return f"no file {file}"
    if anchor and goal.suffix == ".md" and anchor not in anchors(goal):
        return f"no heading #{anchor} in {goal.relative_to(ROOT)}"
    return None
