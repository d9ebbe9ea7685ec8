"""KerasTuner search over Perceivers: search space, tuners, budgets, resuming.

Every search is tiny (N in {4, 8}, L in {1, 2}, width 16, one epoch on 48
digits), so that the file runs in about two minutes per backend.
"""

import argparse
import glob
import json

import keras
import numpy as np
import pytest

keras_tuner = pytest.importorskip("keras_tuner")

import keras_perceiver as kp  # noqa: E402
from keras_perceiver import datasets  # noqa: E402
from keras_perceiver.cli import main as cli_main  # noqa: E402
from keras_perceiver.cli import tune_options  # noqa: E402
from keras_perceiver.tuning import PerceiverHyperModel  # noqa: E402
from keras_perceiver.tuning import StepTimer  # noqa: E402
from keras_perceiver.tuning import TimeBudget  # noqa: E402
from keras_perceiver.tuning import TimeBudgetExceeded  # noqa: E402
from keras_perceiver.tuning import results_table  # noqa: E402
from keras_perceiver.tuning import write_results  # noqa: E402

TINY_SPACE = dict(
    num_latents=[4, 8],
    num_self_attends_per_block=[1, 2],
    latent_dim=16,
    num_blocks=1,
    num_self_heads=2,
    num_bands=2,
)


class CountingHyperModel(PerceiverHyperModel):
    """Records the hyperparameters of every model it trains.

    Its models run eagerly: these searches of a few steps test the tuner's
    bookkeeping, and compiling a step function takes the JAX and TensorFlow
    backends many seconds per trial. The `tune` command test below runs
    compiled models.
    """

    def __init__(self, **kwargs):
        super().__init__((8, 8, 1), 10, **{**TINY_SPACE, **kwargs})
        self.fitted = []

    def build(self, hp):
        model = super().build(hp)
        model.run_eagerly = True
        return model

    def fit(self, hp, model, *args, **kwargs):
        self.fitted.append(dict(hp.values))
        return super().fit(hp, model, *args, **kwargs)


class InterruptAtFirstStep(keras.callbacks.Callback):
    """Stands in for Ctrl-C in the middle of a trial."""

    def on_train_batch_end(self, batch, logs=None):
        raise KeyboardInterrupt


@pytest.fixture(scope="module")
def digits():
    dataset = datasets.load("digits")
    x, y = dataset.x_train[:72], dataset.y_train[:72]
    return (x[:48], y[:48]), (x[48:], y[48:])


def search(tuner, data, callbacks=()):
    (x, y), validation_data = data
    tuner.search(
        x, y, validation_data=validation_data, epochs=1, batch_size=16,
        callbacks=list(callbacks), verbose=0,
    )


def random_search(hypermodel, directory, max_trials):
    return keras_tuner.RandomSearch(
        hypermodel, objective="val_accuracy", max_trials=max_trials,
        seed=1, directory=str(directory), project_name="search",
    )


def trial_files(directory):
    paths = sorted(glob.glob(str(directory / "search" / "trial_*" /
                                 "trial.json")))
    return {path: open(path).read() for path in paths}


def statuses(tuner):
    return [row["status"] for row in results_table(tuner)]


def assert_best_rebuilds_with_same_size(tuner, hypermodel):
    best_trial = tuner.oracle.get_best_trials(1)[0]
    best = tuner.get_best_hyperparameters(1)[0]
    rebuilt = hypermodel.build(best)
    expected = best_trial.metrics.get_last_value("num_params")
    assert rebuilt.count_params() == expected


# The search space.


@pytest.mark.backend_independent
def test_values_lists_and_ranges_become_fixed_choice_and_range():
    hypermodel = PerceiverHyperModel(
        (8, 8, 1), 10, num_latents=[16, 32],
        num_self_attends_per_block={"min_value": 1, "max_value": 3},
        learning_rate={"min_value": 1e-4, "max_value": 1e-2,
                       "sampling": "log"},
        weight_decay=0,
        latent_dim=16, num_blocks=1, num_self_heads=2, num_bands=2,
    )
    hp = keras_tuner.HyperParameters()
    values = hypermodel.declare_hyperparameters(hp)
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds["num_latents"] == "Choice"
    assert kinds["num_self_attends_per_block"] == "Int"
    assert kinds["learning_rate"] == "Float"
    assert kinds["latent_dim"] == "Fixed"
    assert values["weight_decay"] == 0.0  # an int fixes a float setting
    model = hypermodel.build(hp)
    assert model.built and model.encoder.num_latents == 16
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert model.optimizer.weight_decay == 0.0
    assert model.count_params() > 0


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "setting",
    [
        {"num_latents": []},
        {"num_latents": 2.5},
        {"num_latents": True},
        {"num_latents": {"min_value": 8}},
        {"num_latents": {"min_value": 8, "max_value": 4}},
        {"num_self_attends_per_block": {"min_value": 1, "max_value": 4,
                                        "steps": 1}},
        {"learning_rate": "fast"},
        {"num_classs": 3},
        {"class_names": ["zero", "one"]},
        {"classifier": "perceiver_io",
         "input_preprocessing": {"modality": "image"}},
    ],
)
def test_bad_settings_raise_naming_the_argument(setting):
    with pytest.raises(ValueError, match="Received"):
        PerceiverHyperModel((8, 8, 1), 10, **setting)


@pytest.mark.backend_independent
def test_models_keep_the_class_names_and_input_preprocessing():
    names = [f"digit {digit}" for digit in range(10)]
    preprocessing = {"modality": "image", "image_size": [8, 8],
                     "channels": 1}
    hypermodel = PerceiverHyperModel(
        (8, 8, 1), 10, class_names=names, input_preprocessing=preprocessing,
        num_latents=4, num_self_attends_per_block=1, latent_dim=16,
        num_blocks=1, num_self_heads=2, num_bands=2,
    )
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert model.class_names == names
    assert model.input_preprocessing == preprocessing


@pytest.mark.backend_independent
@pytest.mark.slow
def test_perceiver_io_classifiers_are_searched_too(digits, tmp_path):
    hypermodel = CountingHyperModel(
        classifier="perceiver_io", block_scheme="perceiver_io"
    )
    tuner = random_search(hypermodel, tmp_path, max_trials=2)
    search(tuner, digits)
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, kp.PerceiverIOClassifier)
    assert best.encoder.block_scheme == "perceiver_io"
    assert_best_rebuilds_with_same_size(tuner, hypermodel)


@pytest.mark.backend_independent
def test_unknown_classifier_raises():
    with pytest.raises(ValueError, match="`classifier`.*Received"):
        PerceiverHyperModel((8, 8, 1), 10, classifier="mean")


@pytest.mark.backend_independent
def test_bad_input_shape_raises():
    with pytest.raises(ValueError, match="input_shape"):
        PerceiverHyperModel(8, 10)


# Searches with each tuner.


@pytest.mark.backend_independent
@pytest.mark.slow
def test_random_search_resumes_without_losing_or_repeating_trials(
    digits, tmp_path
):
    first = CountingHyperModel()
    tuner = random_search(first, tmp_path, max_trials=2)
    search(tuner, digits)
    assert len(first.fitted) == 2
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    assert_best_rebuilds_with_same_size(tuner, first)
    finished = trial_files(tmp_path)

    # Started again with one more trial, and stopped in its first step.
    second = CountingHyperModel()
    tuner = random_search(second, tmp_path, max_trials=3)
    with pytest.raises(KeyboardInterrupt):
        search(tuner, digits, callbacks=[InterruptAtFirstStep()])
    assert len(second.fitted) == 1

    third = CountingHyperModel()
    tuner = random_search(third, tmp_path, max_trials=3)
    search(tuner, digits)
    assert third.fitted == second.fitted  # only the interrupted trial reran
    assert statuses(tuner) == ["COMPLETED"] * 3
    files = trial_files(tmp_path)
    assert len(files) == 3
    assert {path: files[path] for path in finished} == finished

    rows = results_table(tuner)
    assert [row["trial"] for row in rows] == ["0", "1", "2"]
    for row in rows:
        assert row["num_latents"] in (4, 8)
        assert row["num_self_attends_per_block"] in (1, 2)
        assert 0.0 <= row["val_accuracy"] <= 1.0
        assert row["num_params"] > 0 and row["time_per_step_ms"] > 0
    paths = write_results(tuner, tmp_path)
    with open(paths["csv"]) as file:
        assert file.readline().startswith(
            "trial,status,num_latents,num_self_attends_per_block,"
        )
    with open(paths["markdown"]) as file:
        assert len(file.read().splitlines()) == 2 + 3
    with open(paths["plot"], "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.backend_independent
@pytest.mark.slow
def test_bayesian_optimization_search(digits, tmp_path):
    hypermodel = CountingHyperModel()
    tuner = keras_tuner.BayesianOptimization(
        hypermodel, objective="val_accuracy", max_trials=2,
        num_initial_points=1, seed=1, directory=str(tmp_path),
        project_name="search",
    )
    search(tuner, digits)
    assert statuses(tuner) == ["COMPLETED", "COMPLETED"]
    assert_best_rebuilds_with_same_size(tuner, hypermodel)


@pytest.mark.backend_independent
@pytest.mark.slow
def test_hyperband_continues_the_better_trial(digits, tmp_path):
    hypermodel = CountingHyperModel(num_self_attends_per_block=1)
    # max_epochs=2, factor=2: two models for one epoch, then the better one
    # continues for a second epoch from its checkpoint; then the space (two
    # models) is spent.
    tuner = keras_tuner.Hyperband(
        hypermodel, objective="val_accuracy", max_epochs=2, factor=2,
        seed=1, directory=str(tmp_path), project_name="search",
    )
    search(tuner, digits)
    rows = results_table(tuner)
    assert [row["status"] for row in rows] == ["COMPLETED"] * 3
    assert [row["tuner/initial_epoch"] for row in rows] == [0, 0, 1]
    assert rows[2]["tuner/trial_id"] in ("0000", "0001")
    assert_best_rebuilds_with_same_size(tuner, hypermodel)


# Budgets and timing.


@pytest.mark.backend_independent
@pytest.mark.slow
def test_trials_over_the_parameter_budget_fail_untrained(digits, tmp_path):
    hypermodel = CountingHyperModel(num_self_attends_per_block=1)
    small = keras_tuner.HyperParameters()
    small.Fixed("num_latents", 4)
    budget = hypermodel.build(small).count_params()
    tuner = keras_tuner.RandomSearch(
        hypermodel, objective="val_accuracy", max_trials=2, seed=1,
        max_model_size=budget, directory=str(tmp_path),
        project_name="search",
    )
    search(tuner, digits)
    rows = {row["num_latents"]: row for row in results_table(tuner)}
    assert rows[4]["status"] == "COMPLETED"
    assert rows[4]["num_params"] == budget
    assert rows[8]["status"] == "FAILED"
    assert "Oversized model" in rows[8]["note"]
    assert rows[8]["val_accuracy"] is None
    assert [values["num_latents"] for values in hypermodel.fitted] == [4]


# Budgets and timing.


@pytest.mark.backend_independent
@pytest.mark.slow
def test_a_spent_time_budget_stops_the_search_and_it_resumes(
    digits, tmp_path
):
    hypermodel = CountingHyperModel()
    tuner = random_search(hypermodel, tmp_path, max_trials=1)
    with pytest.raises(TimeBudgetExceeded):
        search(tuner, digits, callbacks=[TimeBudget(0)])
    assert statuses(tuner) == ["INTERRUPTED"]
    assert results_table(tuner)[0]["val_accuracy"] is None

    resumed = CountingHyperModel()
    tuner = random_search(resumed, tmp_path, max_trials=1)
    search(tuner, digits, callbacks=[TimeBudget(3600)])
    assert resumed.fitted == hypermodel.fitted
    assert statuses(tuner) == ["COMPLETED"]


@pytest.mark.backend_independent
@pytest.mark.parametrize("seconds", [-1, "10", True])
def test_time_budget_rejects_bad_seconds(seconds):
    with pytest.raises(ValueError, match="Received: seconds="):
        TimeBudget(seconds)


@pytest.mark.backend_independent
def test_step_timer_leaves_out_the_first_step():
    timer = StepTimer()
    assert np.isnan(timer.time_per_step)
    timer.step_times = [10.0, 1.0, 2.0, 3.0]
    assert timer.time_per_step == 2.0
    logs = {}
    timer.on_epoch_end(0, logs)
    assert logs == {"time_per_step": 2.0}


# The `keras-perceiver tune` command.


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "kind, text, expected",
    [
        (int, "64", 64),
        (int, "32,64,128", [32, 64, 128]),
        (int, "8:64:8", {"min_value": 8, "max_value": 64, "step": 8}),
        (float, "1e-4:1e-2:log",
         {"min_value": 1e-4, "max_value": 1e-2, "sampling": "log"}),
    ],
)
def test_search_space_options(kind, text, expected):
    assert tune_options.search_space_value(kind)(text) == expected


@pytest.mark.backend_independent
@pytest.mark.parametrize("text", ["big", "1:2:3:4:5", "1.5", "4:"])
def test_bad_search_space_options(text):
    with pytest.raises(argparse.ArgumentTypeError):
        tune_options.search_space_value(int)(text)


# The search's bookkeeping is the same under every backend, whose training
# the command's train tests cover: one backend runs it.
@pytest.mark.slow
@pytest.mark.one_backend("torch")
def test_tune_command_writes_results_and_resumes(tmp_path, capsys):
    arguments = [
        "tune", "--dataset", "digits", "--num-latents", "4",
        "--num-self-attends-per-block", "1", "--latent-dim", "16",
        "--num-blocks", "1", "--num-self-heads", "2", "--num-bands", "2",
        "--max-trials", "1", "--epochs", "1", "--batch-size", "16",
        "--max-train-samples", "64", "--time-budget", "3600",
        "--output-dir", str(tmp_path), "--verbose", "0",
    ]
    assert cli_main.main(arguments) == 0
    for name in ("results.csv", "results.md", "results.png",
                 "best_model.keras", "best.json"):
        assert (tmp_path / name).is_file(), name
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["hyperparameters"]["num_latents"] == 4
    assert 0.0 <= best["test_accuracy"] <= 1.0
    model = keras.saving.load_model(tmp_path / "best_model.keras")
    assert model.count_params() == best["num_params"]
    finished = trial_files(tmp_path)
    assert len(finished) == 1

    assert cli_main.main(arguments) == 0  # resumes: nothing left to run
    assert "Reloading Tuner" in capsys.readouterr().out
    assert trial_files(tmp_path) == finished


@pytest.mark.backend_independent
def test_tune_command_reports_bad_arguments(capsys):
    status = cli_main.main(
        ["tune", "--dataset", "digits", "--validation-split", "1.5"]
    )
    assert status == 2
    assert "--validation-split" in capsys.readouterr().err
