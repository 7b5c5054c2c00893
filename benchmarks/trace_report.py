"""Trace `convscope report RUN` through the code: which modules it passes, in order, and
how often a call crosses from one floor (ARCHITECTURE.md) to another, and how many of
those crossings go up (a lower floor calling a higher one: a callback). Module bodies
run at import are left out.

  python benchmarks/trace_report.py [RUN]   # default: a 1-epoch chollet run it trains

Every Python call made inside convscope is seen (sys.setprofile); a call counts as a
move when the caller's floor differs from the callee's.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import tempfile
from pathlib import Path

FLOORS = {"core": 1, "runtime": 2, "present": 3, "api": 4, "cli": 5}


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.get(parts[1], 4) if len(parts) > 1 else 4  # convscope/__init__: the API


def importing(frame) -> bool:  # type: ignore[no-untyped-def]
    """Inside a convscope module's body, run by an import: not a step of the command."""
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__", "").startswith(
            "convscope"
        ):
            return True
        frame = frame.f_back
    return False


def trace(argv: list[str]) -> tuple[list[str], int, int]:
    from convscope.cli import main

    order: list[str] = []
    moves = ups = 0

    def profile(frame, event, arg):  # type: ignore[no-untyped-def]
        nonlocal moves, ups
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith("convscope") or importing(frame):
            return
        if callee not in order:
            order.append(callee)
        back = frame.f_back
        caller = back.f_globals.get("__name__", "") if back else ""
        if caller.startswith("convscope") and floor(caller) != floor(callee):
            moves += 1
            ups += floor(callee) > floor(caller)

    out = io.StringIO()
    sys.setprofile(profile)
    try:
        code = main(argv, stdout=out, stderr=io.StringIO())
    finally:
        sys.setprofile(None)
    assert code == 0, out.getvalue()
    return order, moves, ups


def main() -> int:
    from convscope.cli import main as cli

    with tempfile.TemporaryDirectory() as scratch:
        if len(sys.argv) > 1:
            run = sys.argv[1]
        else:
            out = io.StringIO()
            flags = ["--epochs", "1", "--train-images", "2000", "--seed", "1", "--quiet"]
            cli(["train", "chollet", *flags, "--json", "--runs-dir", scratch], stdout=out)
            run = json.loads(out.getvalue())["run_dir"]
        order, moves, ups = trace(["report", run, "--output", str(Path(scratch) / "r.html")])
    print(f"modules, in the order first called ({len(order)}):")
    for name in order:
        print(f"  floor {floor(name)}  {name}")
    print(f"calls that cross floors: {moves}, of them upwards (a callback): {ups}")
    walk = [floor(name) for name in order]
    changes = [(a, b) for a, b in itertools.pairwise(walk) if a != b]
    back_up = sum(b > a for a, b in changes)
    print(f"the walk of first visits changes floor {len(changes)} times, {back_up} of them back up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
