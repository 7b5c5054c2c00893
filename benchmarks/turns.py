"""Contenders side by side in turns: all alive at once, one running at a time.

On a shared machine the speed drifts by 10-20% over minutes (other tenants), so runs one
after the other can differ by more than the effect measured: three rounds of
keras-cifar10-cnn gave tf.keras 56.0 to 64.0 s an epoch and convscope 55.6 to 58.8 s.
Here every contender starts, and each trains only while the others wait on their stdin:
the parent hands the CPU on every `--turns` training steps (a second or two), so all of
them see the same machine, minute by minute. Each worker counts only the time it ran.

Standard library only: it runs in TensorFlow's environment too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TURN_STEPS = int(os.environ.get("BENCH_TURN_STEPS", "0"))  # 0: not in turns


def wait_turn() -> float:
    """In a worker: hand the CPU on and wait to get it back; the seconds waited."""
    start = time.perf_counter()
    print("turn", flush=True)
    if not sys.stdin.readline():
        raise SystemExit("the benchmark's parent process is gone")
    return time.perf_counter() - start


class Waits:
    """A worker's training steps: every TURN_STEPS of them it waits its turn."""

    def __init__(self) -> None:
        self.steps, self.seconds = 0, 0.0

    def step(self) -> None:
        self.steps += 1
        if TURN_STEPS and self.steps % TURN_STEPS == 0:
            self.seconds += wait_turn()


def take_turns(
    workers: dict[str, tuple[list[str], dict[str, str]]], steps: int
) -> dict[str, dict[str, float]]:
    """Start every worker (name: command line, environment), then give each the turn in
    rotation until all have printed their result (a JSON line); the results by name."""
    with tempfile.TemporaryDirectory() as tmp:
        logs = {name: (Path(tmp) / f"{i}.err").open("w") for i, name in enumerate(workers)}
        procs = {
            name: subprocess.Popen(
                command,
                env={**environ, "BENCH_TURN_STEPS": str(steps)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=logs[name],  # TensorFlow's chatter would fill a pipe
                text=True,
            )
            for name, (command, environ) in workers.items()
        }
        results: dict[str, dict[str, float]] = {}
        try:
            for name in procs:  # each waits for its first turn before its warm-up
                read_to_turn(name, procs[name], logs[name].name)
            while len(results) < len(procs):
                for name, proc in procs.items():
                    if name in results:
                        continue
                    assert proc.stdin is not None
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                    result = read_to_turn(name, proc, logs[name].name)
                    if result is not None:
                        results[name] = result
                        proc.wait()
        finally:
            for proc in procs.values():
                proc.kill()
            for log in logs.values():
                log.close()
    return results


def read_to_turn(name: str, proc: subprocess.Popen[str], log: str) -> dict[str, float] | None:
    """Read a worker's output to its next turn (None) or its result."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line == "turn\n":
            return None
        if line.startswith("{"):
            result: dict[str, float] = json.loads(line)
            return result
    raise SystemExit(f"{name} failed:\n{Path(log).read_text()[-3000:]}")
