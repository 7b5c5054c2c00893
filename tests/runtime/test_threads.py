"""Training threads from the cores other programs leave free (runtime.threads)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from convscope.runtime import threads


def stat(*cpus: tuple[int, int, int, int]) -> str:
    """/proc/stat with one line per CPU: (user, nice, system, idle) jiffies."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"]
    lines += [f"cpu{i} {u} {n} {s} {idle} 0 0 0 0 0 0" for i, (u, n, s, idle) in enumerate(cpus)]
    return "\n".join(lines) + "\nintr 0\n"


@pytest.mark.parametrize(
    ("after", "busy", "free"),
    [
        (stat((0, 0, 0, 100), (0, 0, 0, 100)), 0.0, 2),  # quiet
        (stat((100, 0, 0, 0), (0, 0, 0, 100)), 1.0, 1),  # one `yes` on a core
        (stat((90, 0, 10, 0), (60, 0, 0, 40)), 1.6, 1),  # both mostly taken: still one
        (stat((0, 100, 0, 0), (0, 0, 0, 100)), 0.0, 2),  # a niced program does not count
    ],
    ids=["quiet", "one-busy", "both-busy", "niced"],
)
def test_busy_cores_from_two_samples(
    after: str, busy: float, free: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = iter([stat((0, 0, 0, 0), (0, 0, 0, 0)), after])
    path = tmp_path / "stat"

    def read() -> str:
        return next(samples)

    monkeypatch.setattr(threads, "STAT", path)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: read() if self == path else "")
    found = threads.busy_cores({0, 1}, seconds=0)
    assert found == pytest.approx(busy)
    assert threads.free_threads(2, found) == free


def test_the_users_own_thread_count_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """OMP_NUM_THREADS wins over the sample, also when set after torch started (a
    notebook's os.environ): a seeded run repeats only with the same thread count."""
    monkeypatch.setattr(threads, "busy_cores", lambda cpus, seconds=0: 99.0)
    before = torch.get_num_threads()
    try:
        for given in ("2", "1"):
            assert threads.choose_threads({"OMP_NUM_THREADS": given}) is None
            assert torch.get_num_threads() == int(given)
    finally:
        torch.set_num_threads(before)


def test_a_busy_machine_trains_on_the_free_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "busy_cores", lambda cpus, seconds=0: len(cpus) - 1.0)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    torch.set_num_threads(2)
    try:
        note = threads.choose_threads({})
        assert torch.get_num_threads() == 1
        assert note is not None and "training on 1 thread" in note
    finally:
        torch.set_num_threads(before)
