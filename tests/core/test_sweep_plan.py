"""A sweep's grammar and plan: --grid, --random, sweep.toml, trials, their runs' settings.

Standard library only (no training): every malformed request fails here, with a message
naming the option, the rule and the value, before anything trains.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convscope.core.errors import ConvscopeError
from convscope.core.explain.rules import explain
from convscope.core.presets import get
from convscope.core.settings import Options
from convscope.core.source.read import read_model
from convscope.core.sweep import plan as sw
from convscope.core.sweep.grammar import parse_grid, parse_random

OPTIONS = set(Options.__dataclass_fields__) - {"seed"}

# (flags as sweep takes them, a part of the message)
BAD_REQUESTS = {
    "unknown-setting": ({"grid": ["lrr=1e-3,1e-4"]}, "'lrr' is not a setting a sweep can vary"),
    "empty-list": ({"grid": ["lr="]}, "lr needs at least one value"),
    "empty-value": ({"grid": ["lr=1e-3,,1e-4"]}, "no empty ones"),
    "no-equals": ({"grid": ["lr"]}, "expected SETTING=VALUE,VALUE"),
    "not-a-number": ({"grid": ["lr=fast"]}, "expected a number, got 'fast'"),
    "negative-rate": ({"grid": ["lr=-0.1"]}, "must be a positive number, got '-0.1'"),
    "fractional-batch": ({"grid": ["batch_size=32.5"]}, "positive whole number, got '32.5'"),
    "repeated-value": ({"grid": ["batch_size=32,32"]}, "lists a value twice"),
    "unknown-optimizer": ({"grid": ["optimizer=adam,adamax2"]}, "unknown optimizer 'adamax2'"),
    "unknown-variant": ({"grid": ["pooling=max,min"]}, "must be one of max, average"),
    "dropout-of-one": ({"grid": ["dropout=0,1"]}, "a dropout rate must be in [0, 1)"),
    "bad-augment": ({"grid": ["augment=none;blur=2"]}, "'blur=2' is not a setting"),
    "swept-twice": ({"grid": ["lr=1e-3", "lr=1e-4"]}, "lr is swept twice"),
    "grid-and-random": (
        {"grid": ["lr=1e-3"], "random": ["lr=uniform(1e-4,1e-2)"], "trials": 2},
        "lr is swept twice",
    ),
    "swept-and-fixed": (
        {"grid": ["epochs=1,2"], "options": {"epochs": 3}},
        "epochs is both swept and given as an option (3)",
    ),
    "unknown-distribution": (
        {"random": ["lr=normal(0,1)"], "trials": 2},
        "expected SETTING=DISTRIBUTION(...), got 'normal(0,1)'",
    ),
    "unclosed-distribution": ({"random": ["lr=uniform(1e-4,1e-2"], "trials": 2}, "DISTRIBUTION"),
    "one-bound": ({"random": ["lr=loguniform(1e-4)"], "trials": 2}, "takes two bounds, got 1"),
    "bounds-reversed": (
        {"random": ["lr=uniform(1e-2,1e-4)"], "trials": 2},
        "the lower bound must be below the upper",
    ),
    "randint-for-a-rate": ({"random": ["lr=randint(1,5)"], "trials": 2}, "lr takes uniform"),
    "uniform-for-batches": (
        {"random": ["batch_size=uniform(16,128)"], "trials": 2},
        "batch_size takes randint, not uniform",
    ),
    "randint-one-value": ({"random": ["epochs=randint(2,3)"], "trials": 2}, "has one value"),
    "random-without-trials": ({"random": ["lr=uniform(1e-4,1e-2)"]}, "needs --trials N"),
    "trials-without-random": ({"grid": ["lr=1e-3,1e-4"], "trials": 3}, "--trials counts"),
    "nothing-to-sweep": ({}, "nothing to sweep"),
    "seed-and-seeds": ({"grid": ["lr=1e-3,1e-4"], "seeds": 2, "seed": 5}, "not both"),
    "bad-option": ({"grid": ["lr=1e-3,1e-4"], "options": {"epochs": 0}}, "epochs must be a"),
}


@pytest.mark.parametrize(("flags", "message"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_malformed_request_is_refused_clearly(flags: dict[str, object], message: str) -> None:
    with pytest.raises(ConvscopeError) as error:
        sw.request("chollet", **flags)  # type: ignore[arg-type]
    assert message in str(error.value)
    assert len(str(error.value).splitlines()) <= 2


BAD_TOML = {
    "not-toml": ('model = "chollet"\n[grid\n', "not valid TOML"),
    "no-model": ("[grid]\nlr = [1e-3, 1e-4]\n", 'model = "..." is missing'),
    "unknown-key": ('model = "chollet"\nlrr = 3\n', "unknown key 'lrr'"),
    "grid-not-a-list": ('model = "chollet"\n[grid]\nlr = 0.001\n', "lr must be a list"),
    "empty-grid-list": ('model = "chollet"\n[grid]\nlr = []\n', "lr needs at least one value"),
    "unknown-grid-setting": ('model = "chollet"\n[grid]\nfilters = [8]\n', "'filters' is not"),
    "bad-distribution": (
        'model = "chollet"\ntrials = 2\n[random]\nlr = "gauss(1, 2)"\n',
        "expected SETTING=DISTRIBUTION",
    ),
    "unknown-ray-key": (
        'model = "chollet"\nseeds = 2\n[ray]\nadress = "ray://h:10001"\n',
        "unknown key 'adress' in [ray]",
    ),
    "grid-not-a-table": ('model = "chollet"\ngrid = 3\n', "grid must be a table"),
}


@pytest.mark.parametrize(("text", "message"), BAD_TOML.values(), ids=BAD_TOML.keys())
def test_a_malformed_config_file_is_refused_naming_it(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ConvscopeError) as error:
        sw.read_config(path, OPTIONS)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_config_file_says_what_the_flags_say(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(
        'model = "chollet"\nepochs = 2\ntrain_images = 2000\nseeds = 3\n'
        "[grid]\nlr = [1e-4, 1e-3]\nbatch_size = [32, 128]\n"
        '[ray]\naddress = "ray://head:10001"\ncpus_per_trial = 2\n'
    )
    found, run = sw.read_config(path, OPTIONS)
    flags = sw.request(
        "chollet",
        grid=["lr=1e-4,1e-3", "batch_size=32,128"],
        seeds=3,
        options={"epochs": 2, "train_images": 2000},
    )
    assert found == flags
    assert run == {"output": None, "ray": "ray://head:10001", "cpus_per_trial": 2}


def test_grid_values_are_parsed_with_each_settings_rule() -> None:
    assert parse_grid("lr=1e-4, 3e-4") == ("lr", (0.0001, 0.0003))
    assert parse_grid("batch-size=32,64") == ("batch_size", (32, 64))
    assert parse_grid("optimizer=Adam,RMSprop") == ("optimizer", ("adam", "rmsprop"))
    assert parse_grid("augment=none;shift=2,rotate=10") == (
        "augment",
        ("none", "shift=2,rotate=10"),
    )


def test_random_draws_are_rounded_within_bounds_and_repeat() -> None:
    d = parse_random("lr=loguniform(1e-4,1e-2)")
    req = sw.request("chollet", random=["lr=loguniform(1e-4,1e-2)"], trials=20)
    draws = [c["lr"] for c in req.configurations()]
    assert all(1e-4 <= v <= 1e-2 for v in draws) and len(set(draws)) == 20
    assert all(float(f"{v:.3g}") == v for v in draws)  # three significant digits
    assert draws == [c["lr"] for c in req.configurations()]  # the same command, same trials
    other = sw.request("chollet", random=["lr=loguniform(1e-4,1e-2)"], trials=20, sample_seed=1)
    assert draws != [c["lr"] for c in other.configurations()]
    assert str(d) == "loguniform(0.0001, 0.01)"
    ints = sw.request("chollet", random=["batch_size=randint(16,20)"], trials=30).configurations()
    assert {c["batch_size"] for c in ints} == {16, 17, 18, 19}  # a <= n < b


def test_trials_go_seed_by_seed_each_random_draw_with_every_grid_point() -> None:
    req = sw.request(
        "chollet",
        grid=["optimizer=adam,sgd"],
        random=["lr=loguniform(1e-4,1e-2)"],
        trials=3,
        seeds=2,
    )
    trials = sw.plan_trials(req)
    assert len(trials) == 2 * 3 * 2  # grid points x draws x seeds
    assert [t.seed for t in trials] == [1] * 6 + [2] * 6
    assert [t.values["optimizer"] for t in trials[:6]] == ["adam", "sgd"] * 3
    assert trials[0].values["lr"] == trials[1].values["lr"] != trials[2].values["lr"]
    assert [t.values for t in trials[:6]] == [t.values for t in trials[6:]]
    assert [t.index for t in trials] == list(range(1, 13))
    assert trials[0].key.startswith("01-optimizeradam-lr0.") and trials[0].key.endswith("-seed1")


def test_each_trial_is_trains_plan_with_its_values() -> None:
    req = sw.request("chollet", grid=["lr=3e-4,1e-3", "batch_size=32,128"], seeds=2,
                     options={"epochs": 2, "train_images": 2000})  # fmt: skip
    record = sw.sweep_record(req)
    planned = sw.planned_trials(record, "sweep.json")
    assert len(planned) == 8 and len(record["id"]) == 32
    last = planned[-1]
    assert last.trial.values == {"lr": 0.001, "batch_size": 128} and last.trial.seed == 2
    t = last.settings.training
    assert (t.learning_rate, t.batch_size, t.epochs, t.optimizer) == (0.001, 128, 2, "rmsprop")
    assert last.settings.seed == 2 and last.settings.train_images == 2000
    assert last.source_text == get("chollet").source  # what `convscope train chollet` keeps


# (grid, the model's parameters as explain counts them, what the source says)
MODEL_CHANGES = {
    # 16, 32, 32 filters: 160 + 4,640 + 9,248 + (3*3*32*64 + 64) + 650
    "width-half": ("width=0.5", 33_194, "layers.Conv2D(16, (3, 3)"),
    "dropout-added-before-the-classifier": ("dropout=0.5", 93_322, "layers.Dropout(0.5),\n"
                                            "    layers.Dense(10"),
    "no-pooling": ("pooling=none", 2_038_922, "layers.Flatten()"),
    # each pool becomes a 2x2 stride-2 Conv2D with C filters: + (32*32*4 + 32) + (64*64*4 + 64)
    "strided": ("pooling=strided", 113_898, "strides=(2, 2)"),
}  # fmt: skip


@pytest.mark.parametrize(("grid", "params", "source"), MODEL_CHANGES.values(),
                         ids=MODEL_CHANGES.keys())  # fmt: skip
def test_model_settings_change_the_network_and_its_source(
    grid: str, params: int, source: str
) -> None:
    planned = sw.planned_trials(sw.sweep_record(sw.request("chollet", grid=[grid], seeds=2)), "")
    spec = read_model(planned[0].source_text, "model.py").spec
    assert explain(spec).total_params == params
    assert source in planned[0].source_text
    assert planned[0].settings.training == planned[1].settings.training


def test_dropout_on_a_model_with_dropout_sets_its_rates() -> None:
    planned = sw.planned_trials(
        sw.sweep_record(sw.request("keras-mnist-cnn", grid=["dropout=0,0.1"])), ""
    )
    rates = [
        [layer.rate for layer in read_model(p.source_text, "m.py").spec.layers
         if type(layer).__name__ == "Dropout"]
        for p in planned
    ]  # fmt: skip
    assert rates == [[0.0, 0.0], [0.1, 0.1]]
