"""The sweep's keeper on a Ray cluster: one actor on the head node holding what must
outlive any worker node, since the nodes share no disk with the driver.

- each trial's latest run folder (a tar, after every epoch): a trial retried on another
  node after its node died resumes from it, not from scratch;
- what happened since the driver last asked (`take`): trials started (node, host,
  process, the epoch they resume from) and epochs finished, with those run folders, which
  the driver writes into the sweep folder, so a killed driver's `--resume` has them too;
- early stopping's rungs: every trial's value at each rung, judged in one place.

A plain class: runtime/sweep/ray_tasks.py makes it a Ray actor (its calls run one at a
time, so the rungs need no lock).
"""

from __future__ import annotations

from typing import Any


class Keeper:
    def __init__(self, rungs: dict[str, dict[str, float]] | None = None) -> None:
        self.saved: dict[str, tuple[int, bytes]] = {}  # trial -> (epochs trained, tar)
        self.news: list[dict[str, Any]] = []  # since the driver's last take
        self.rungs: dict[str, dict[str, float]] = dict(rungs or {})

    def seed(self, key: str, epochs: int, tar: bytes) -> None:
        """The driver's copy of a trial stopped before (a resumed sweep)."""
        self.saved[key] = (epochs, tar)

    def latest(self, key: str) -> tuple[int, bytes] | None:
        return self.saved.get(key)

    def started(self, key: str, where: dict[str, Any]) -> None:
        self.news.append({"event": "started", "key": key, **where})

    def fetched(self, what: str, where: dict[str, Any]) -> None:
        """A node fetched the data set (the first trial there)."""
        self.news.append({"event": "fetched", "key": None, "what": what, **where})

    def epoch(self, key: str, epochs: int, tar: bytes, where: dict[str, Any]) -> None:
        self.saved[key] = (epochs, tar)
        self.news.append({"event": "epoch", "key": key, "epochs": epochs, **where})

    def forget(self, key: str) -> None:
        """A trial the driver has whole: its run folder need not be kept here."""
        self.saved.pop(key, None)

    def rung(self, epoch: int, key: str, value: float) -> list[float]:
        """A trial's value at a rung; every value the rung holds now."""
        rung = self.rungs.setdefault(str(epoch), {})
        rung[key] = value
        return list(rung.values())

    def take(self) -> tuple[list[dict[str, Any]], dict[str, bytes], dict[str, dict[str, float]]]:
        """The news since the last take, each trial's newest run folder among them, and the
        rungs."""
        news, self.news = self.news, []
        epochs = {n["key"] for n in news if n["event"] == "epoch"}
        fresh = {key: self.saved[key][1] for key in epochs if key in self.saved}
        return news, fresh, self.rungs
