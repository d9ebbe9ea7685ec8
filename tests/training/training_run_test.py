"""A whole training run through the Python API (`RunSpec`, `TrainingRun`):
the folder it writes, resuming, continuing, and what it refuses. A tiny
Perceiver on 40 random 4 x 4 images, one or two epochs."""

import csv
import json
import math

import numpy as np
import pytest

from bad_input import assert_value_error, unchanged
from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.models import perceiver_for_dataset
from keras_perceiver.training import RunSpec, TrainingRun

RESULTS = ("model.keras", "history.csv", "training_curves.png",
           "attention_maps.png", "metrics.json")


def tiny_data():
    rng = np.random.default_rng(0)
    images = rng.random((40, 4, 4, 1), dtype=np.float32)
    labels = np.arange(40) % 2
    return Dataset("tiny", images[:32], labels[:32], images[32:],
                   labels[32:], ["even", "odd"], "image")


def tiny_model(dataset):
    return perceiver_for_dataset(
        dataset, num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=1, num_bands=2)


def spec(**overrides):
    options = dict(dataset=tiny_data, name="tiny", build_model=tiny_model,
                   epochs=1, batch_size=16, validation_split=0.25)
    return RunSpec(**{**options, **overrides})


def epochs_logged(folder):
    with open(folder / "history.csv", newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


# The run lifecycle is the same under every backend (cli_test.py trains
# through it under each): one backend runs it.
@pytest.mark.one_backend("torch")
def test_a_run_writes_its_folder_resumes_and_continues(tmp_path, capsys,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = TrainingRun(spec()).run()  # a new folder under runs/tiny
    assert (tmp_path / "runs" / "tiny" / "latest").resolve() == \
        (tmp_path / folder).resolve()
    for name in RESULTS:
        assert (folder / name).is_file(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["dataset"] == "tiny"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert epochs_logged(folder) == [0]
    [epoch_seconds] = metrics["epoch_seconds_this_run"]
    assert 0 < epoch_seconds <= metrics["training_seconds_this_run"] + 0.1

    again = spec(output_dir=folder)
    assert TrainingRun(again).run() == folder
    assert "finished after 1 epochs" in capsys.readouterr().out

    # Killed after fit, before the results: they are written, not trained.
    (folder / "metrics.json").unlink()
    (folder / "model.keras").unlink()
    TrainingRun(again).run()
    out = capsys.readouterr().out
    assert "Resuming after epoch 1" in out
    assert (folder / "model.keras").is_file()
    assert epochs_logged(folder) == [0]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epoch_seconds_this_run"] == []  # none trained

    assert_value_error(lambda: TrainingRun(spec(output_dir=folder,
                                                epochs=2)).run(),
                       "continue_training=True")
    assert_value_error(lambda: TrainingRun(spec(output_dir=folder,
                                                learning_rate=0.01)).run(),
                       "other options", "restart=True")
    run = TrainingRun(spec(output_dir=folder, epochs=2,
                           continue_training=True))
    run.run()
    assert run.finished_epochs == 2
    assert epochs_logged(folder) == [0, 1]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs"] == 2
    assert len(metrics["epoch_seconds_this_run"]) == 1  # the second
    assert_value_error(lambda: TrainingRun(spec(output_dir=folder)).run(),
                       "more than --epochs 1 (epochs=1)")


def test_a_folder_of_other_files_is_refused_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with unchanged(tmp_path):
        assert_value_error(
            lambda: TrainingRun(spec(output_dir=tmp_path)).run(),
            "did not write", "overwrite_output_dir=True")


@pytest.mark.parametrize("overrides, fragments", [
    (dict(epochs=0), ["epochs"]),
    (dict(batch_size=2.5), ["batch_size"]),
    (dict(learning_rate=0.0), ["learning_rate", "> 0"]),
    (dict(learning_rate="fast"), ["learning_rate"]),
    (dict(weight_decay=math.nan), ["weight_decay", ">= 0"]),
    (dict(validation_split=1.0), ["validation_split"]),
    (dict(schedule="linear"), ["schedule"]),
    (dict(continue_training=True, restart=True), ["not both"]),
    (dict(name=None), ["name"]),
])
def test_a_bad_spec_is_a_value_error(overrides, fragments):
    assert_value_error(lambda: spec(**overrides), *fragments)
