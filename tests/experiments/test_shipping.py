"""What travels between a sweep's driver and its Ray nodes (runtime/sweep/shipping.py) and
what the keeper holds (runtime/sweep/keeper.py), without Ray: the cluster tests run them
through Ray."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convscope.core.errors import ConvscopeError
from convscope.core.presets import model
from convscope.core.settings import Settings
from convscope.core.sweep.folder import NodeDir, attempt_owner
from convscope.runtime import sources
from convscope.runtime.sweep.keeper import Keeper
from convscope.runtime.sweep.shipping import (
    Shipment,
    data_shipment,
    pack,
    place_data,
    restore,
    unpack,
)


def test_a_run_folder_is_replaced_whole(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    (run / "history.json").write_text("[1]")
    (run / "figures" / "a.png").write_bytes(b"png")
    (run / ".hidden").write_text("left out")
    tar = pack(run)
    target = tmp_path / "copy"
    (target / "stale").mkdir(parents=True)
    unpack(tar, target)
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "figures", "figures/a.png", "history.json"]  # fmt: skip
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing left over


# What a process killed inside unpack leaves, by the step it reached: (hidden folders
# beside the run, whether the run folder is there, which epoch restore must leave).
KILLED_IN_UNPACK = {
    "while extracting": ({".run.x1": "2-half"}, "1", "1"),
    "between the renames": ({".run.old": "1", ".run.x1": "2"}, None, "1"),
    "before removing the old copy": ({".run.old": "1"}, "2", "2"),
}


@pytest.mark.parametrize("hidden, present, kept", KILLED_IN_UNPACK.values(),
                         ids=KILLED_IN_UNPACK.keys())  # fmt: skip
def test_a_run_folder_survives_a_kill_inside_unpack(
    tmp_path: Path, hidden: dict[str, str], present: str | None, kept: str
) -> None:
    for name, epoch in {**hidden, **({"run": present} if present else {})}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "epoch").write_text(epoch)
    (tmp_path / ".run.x.old").mkdir()  # the old copy of a folder named run.x: not run's
    restore(tmp_path / "run")
    assert (tmp_path / "run" / "epoch").read_text() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.x.old", "run"]


def shipment_of(raw: bytes, name: str = "x.npz") -> Shipment:
    return Shipment("/driver/x.npz", name, hashlib.sha256(raw).hexdigest(), False, len(raw))


def test_a_data_set_is_fetched_once_per_node_even_by_two_trials_at_once(tmp_path: Path) -> None:
    node, raw = NodeDir(tmp_path / "node"), b"the data" * 1000
    shipment, fetches, found = shipment_of(raw), [], []

    def fetch() -> bytes:
        fetches.append(1)
        return raw

    trials = [threading.Thread(target=lambda: found.append(place_data(node, shipment, fetch)))
              for _ in range(4)]  # fmt: skip
    for trial in trials:
        trial.start()
    for trial in trials:
        trial.join()
    assert len(fetches) == 1 and sorted(f for _, f in found) == [False, False, False, True]
    assert found[0][0].read_bytes() == raw


def test_a_damaged_copy_is_refused_and_not_kept(tmp_path: Path) -> None:
    node = NodeDir(tmp_path / "node")
    shipment = shipment_of(b"what the driver sent")
    with pytest.raises(ConvscopeError, match=r"x.npz arrived damaged on this node: its SHA-256"):
        place_data(node, shipment, lambda: b"something else")
    assert not node.data_complete(shipment.sha256).exists()
    place_data(node, shipment, lambda: b"what the driver sent")  # a later trial fetches again
    assert node.data_complete(shipment.sha256).exists()


def settings(dataset: str) -> Settings:
    chollet = model("chollet")
    assert chollet.training is not None
    training = replace(chollet.training, dataset=dataset)
    return Settings(model="chollet", source="chollet", input_shape=(8, 8, 3), training=training,
                    seed=0, validation_split=None, device="cpu", precision="fp32")  # fmt: skip


def test_a_named_set_goes_as_its_arrays_and_reads_back_the_same(tmp_path: Path) -> None:
    shipment, raw = data_shipment(settings("mnist"))
    assert shipment.name == "mnist.npz" and not shipment.folder
    node = NodeDir(tmp_path / "node")
    placed, _ = place_data(node, shipment, lambda: raw)
    here = sources.load_for(settings("mnist"))
    sources.place("mnist", placed)
    try:
        there = sources.load_for(settings("mnist"))
    finally:
        sources.PLACED.clear()
    assert there.info == here.info and there.scale
    np.testing.assert_array_equal(there.train_images, here.train_images)
    np.testing.assert_array_equal(there.test_labels, here.test_labels)


def test_a_photo_folder_goes_without_its_decoded_cache(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    for name in ("cat", "dog"):
        (photos / name).mkdir(parents=True)
        Image.new("RGB", (8, 8), (200, 10, 10)).save(photos / name / "1.png")
    (photos / ".convscope-cache").mkdir()
    (photos / ".convscope-cache" / "big.npy").write_bytes(b"0" * 1000)
    shipment, raw = data_shipment(settings(str(photos)))
    assert shipment.folder and shipment.name == "photos"
    placed, _ = place_data(NodeDir(tmp_path / "node"), shipment, lambda: raw)
    assert sorted(str(p.relative_to(placed)) for p in placed.rglob("*.png")) == [
        "cat/1.png", "dog/1.png"]  # fmt: skip
    assert not (placed / ".convscope-cache").exists()


def test_the_keeper_hands_on_each_trials_newest_folder_and_judges_rungs() -> None:
    keeper = Keeper({"1": {"a": 0.5}})
    keeper.started("b", {"node": "n1"})
    keeper.epoch("b", 1, b"tar1", {"node": "n1"})
    keeper.epoch("b", 2, b"tar2", {"node": "n1"})
    news, fresh, rungs = keeper.take()
    assert [n["event"] for n in news] == ["started", "epoch", "epoch"]
    assert fresh == {"b": b"tar2"} and keeper.latest("b") == (2, b"tar2")
    assert keeper.take()[0] == []  # news once
    assert sorted(keeper.rung(1, "b", 0.7)) == [0.5, 0.7] and rungs["1"]["b"] == 0.7
    keeper.forget("b")
    assert keeper.latest("b") is None


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("attempt-node1-4242-k3_x9q", ("node1", 4242)),
        ("attempt-my-laptop-17-abc", ("my-laptop", 17)),  # a host name with dashes
        ("attempt-x9q2_a", ("", None)),  # the form before hosts and pids were in the name
        ("attempt-host-notapid-abc", ("", None)),
    ],
    ids=["host-and-pid", "dashed-host", "older-form", "no-pid"],
)
def test_an_attempt_folder_names_its_host_and_process(
    name: str, owner: tuple[str, int | None]
) -> None:
    assert attempt_owner(name) == owner


def test_a_dead_attempts_folder_goes_at_the_next_attempt_on_its_host(tmp_path: Path) -> None:
    """A worker killed mid-trial cannot remove its attempt folder: the next attempt on the
    same host does, and leaves live processes' and other hosts' folders alone."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host, sweeps = socket.gethostname(), tmp_path / "node" / "sweeps"
    left = sweeps / "s1" / f"attempt-{host}-{dead.pid}-abc"
    kept = [
        sweeps / "s2" / f"attempt-{host}-{os.getpid()}-def",  # a live process's
        sweeps / "s1" / f"attempt-not-{host}-{dead.pid}-ghi",  # another host's (a shared home)
        sweeps / "s1" / "attempt-xyz",  # no owner in its name
    ]
    for folder in (left, *kept):
        (folder / "runs").mkdir(parents=True)
    new = NodeDir(tmp_path / "node").attempt("s1")
    assert not left.exists()
    assert all(folder.exists() for folder in kept)
    assert new.path.name.startswith(f"attempt-{host}-{os.getpid()}-") and new.path.is_dir()
