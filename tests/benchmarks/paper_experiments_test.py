"""The logic of the paper experiments (benchmarks/paper), at tiny sizes.

The model pieces (the invariance, the adapter, the waveform augmentation)
run on every backend; the plumbing around `model.fit` (the run log,
`fit_and_test` and its resumption, the tables, the runner) on one.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from benchmarks.paper import __main__ as runner
from benchmarks.paper import experiment
from benchmarks.paper import permutation
from benchmarks.paper import placement
from benchmarks.paper import raw_audio
from benchmarks.paper import weight_sharing

TINY = dict(num_latents=4, latent_dim=8, num_blocks=2,
            num_self_attends_per_block=1, num_self_heads=2)
SETTINGS = dict(num_bands=3, perceiver=TINY)


def random_images(count=4, size=6, channels=3, seed=0):
    return np.random.default_rng(seed).random(
        (count, size, size, channels)).astype("float32")


@pytest.mark.backend_independent
def test_permute_pixels_moves_every_image_the_same_way():
    images = random_images(count=2, size=3, channels=2)
    order = permutation.pixel_permutation(3, 3)
    permuted = permutation.permute_pixels(images, order)
    flat = images.reshape(2, 9, 2)
    np.testing.assert_array_equal(permuted.reshape(2, 9, 2), flat[:, order])
    assert sorted(order) == list(range(9)) and list(order) != list(range(9))
    np.testing.assert_array_equal(
        order, permutation.pixel_permutation(3, 3))  # one fixed order


def test_perceiver_logits_do_not_change_under_the_pixel_permutation():
    images = random_images()
    model = permutation.build_perceiver(images.shape[1:], 3, **TINY)
    model(images[:1])
    order = permutation.pixel_permutation(6, 6)
    gap = permutation.invariance_gap(model, images, order, SETTINGS)
    assert gap["max_abs_logit_difference"] < 1e-5
    assert gap["max_abs_logit"] > 1e-3  # the comparison is not of zeros
    assert gap["images"] == 4


@pytest.mark.parametrize("build", [
    pytest.param(lambda shape: permutation.build_perceiver(shape, 3, **TINY),
                 id="perceiver_reading_positions_in_place"),
    pytest.param(lambda shape: permutation.build_cnn(shape, width=4),
                 id="cnn", marks=pytest.mark.backend_independent),
])
def test_models_without_the_original_positions_depend_on_pixel_order(build):
    """The Perceiver's invariance comes from the positions: read at their
    new places, permuted pixels give other logits, as they do in the CNN."""
    images = random_images(size=8)
    model = build(images.shape[1:])
    order = permutation.pixel_permutation(8, 8)
    original = keras.ops.convert_to_numpy(model(images))
    moved = keras.ops.convert_to_numpy(
        model(permutation.permute_pixels(images, order)))
    assert np.max(np.abs(original - moved)) > 1e-4


@pytest.mark.backend_independent
def test_the_cnn_baseline_is_about_the_perceivers_size():
    """Width 32 on 32x32 RGB: about 290,000 parameters, against the
    Perceiver's 331,000 (the full settings)."""
    cnn = permutation.build_cnn((32, 32, 3), width=32)
    assert 250_000 < cnn.count_params() < 330_000


def test_pixels_at_positions_round_trips_its_config():
    adapter = permutation.PixelsAtPositions(
        (6, 6), 3, permutation.pixel_permutation(6, 6))
    copy = permutation.PixelsAtPositions.from_config(adapter.get_config())
    images = random_images()
    expected, _ = adapter(images)
    received, _ = copy(images)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(received),
                               keras.ops.convert_to_numpy(expected))
    assert tuple(expected.shape) == (4, 36, 3 + 2 * (2 * 3 + 1))


@pytest.mark.backend_independent
def test_finished_runs_are_run_once_and_read_back(tmp_path):
    calls = []

    def run(checkpoints):
        calls.append(checkpoints)
        checkpoints.mkdir(parents=True)
        return {"test_accuracy": 0.5}

    runs = experiment.FinishedRuns(tmp_path / "runs.jsonl")
    assert runs.get_or_run("a/seed 0", run) == {"test_accuracy": 0.5}
    assert runs.get_or_run("a/seed 0", run) == {"test_accuracy": 0.5}
    again = experiment.FinishedRuns(tmp_path / "runs.jsonl")
    assert again.get_or_run("a/seed 0", run) == {"test_accuracy": 0.5}
    assert len(calls) == 1
    assert not calls[0].exists()  # the run's checkpoints are removed


@pytest.mark.backend_independent
def test_a_run_without_checkpoints_is_logged(tmp_path):
    runs = experiment.FinishedRuns(tmp_path / "runs.jsonl")
    assert runs.get_or_run("b", lambda checkpoints: {"x": 1}) == {"x": 1}
    assert not (tmp_path / "checkpoints").exists()


def tiny_training_data():
    rng = np.random.default_rng(0)
    x = rng.random((32, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("int64")
    return (x[:24], y[:24]), (x[24:], y[24:])


def tiny_classifier():
    return permutation.build_perceiver((6, 6, 1), 3, **TINY)


@pytest.mark.backend_independent
def test_fit_and_test_reports_the_run(tmp_path):
    train, test = tiny_training_data()
    result = experiment.fit_and_test(
        tiny_classifier, train, test, epochs=2, batch_size=8,
        curve_data=test, measure=lambda model: {"extra": 1})
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert len(result["train_accuracy"]) == 2
    assert len(result["curve_accuracy"]) == 2
    assert result["steps"] == 6 and result["extra"] == 1
    assert result["parameters"] > 0
    assert result["train_seconds"] > 0


@pytest.mark.backend_independent
def test_fit_and_test_resumes_a_stopped_run(tmp_path, monkeypatch):
    """A run stopped after its first epoch trains only the second when
    started again with the same checkpoint folder."""
    train, test = tiny_training_data()
    finish_epoch = experiment.EpochTimer.on_epoch_end

    def stop_in_second_epoch(timer, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt
        finish_epoch(timer, epoch, logs)

    monkeypatch.setattr(experiment.EpochTimer, "on_epoch_end",
                        stop_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        experiment.fit_and_test(tiny_classifier, train, test, epochs=2,
                                batch_size=8,
                                checkpoint_directory=tmp_path / "run")
    monkeypatch.setattr(experiment.EpochTimer, "on_epoch_end", finish_epoch)
    epochs_begun = []
    monkeypatch.setattr(experiment.EpochTimer, "on_epoch_begin",
                        lambda timer, epoch, logs=None: (
                            epochs_begun.append(epoch),
                            setattr(timer, "started", 0.0)))
    result = experiment.fit_and_test(tiny_classifier, train, test, epochs=2,
                                     batch_size=8,
                                     checkpoint_directory=tmp_path / "run")
    assert epochs_begun == [1]
    assert len(result["train_accuracy"]) == 2


def test_waveform_augmentation_normalises_and_delays_with_the_mask():
    waveforms = np.zeros((2, 16), "float32")
    waveforms[:, :4] = [[3.0, -3.0, 3.0, -3.0], [0.5, 0.5, -0.5, -0.5]]
    mask = np.zeros((2, 16), bool)
    mask[:, :4] = True
    inputs = {"inputs": waveforms, "mask": mask}
    layer = raw_audio.WaveformAugmentation(normalise=True, max_shift=5,
                                           seed=1)
    tested = layer(inputs, training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(tested["inputs"])[:, :4],
        np.sign(waveforms[:, :4]), atol=1e-4)  # root mean square 1
    trained = layer(inputs, training=True)
    delayed = keras.ops.convert_to_numpy(trained["inputs"])
    delayed_mask = keras.ops.convert_to_numpy(trained["mask"])
    for row in range(2):
        start = int(np.argmax(delayed_mask[row]))
        assert 0 <= start <= 5 and delayed_mask[row].sum() == 4
        np.testing.assert_allclose(delayed[row, start:start + 4],
                                   np.sign(waveforms[row, :4]), atol=1e-4)
        assert not delayed[row, ~delayed_mask[row]].any()


def test_waveform_augmentation_round_trips_its_config():
    layer = raw_audio.WaveformAugmentation(normalise=True, max_shift=8,
                                           gain_range=(0.5, 2.0), seed=3)
    copy = raw_audio.WaveformAugmentation.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()


def fake_run(accuracy, parameters=1000, seconds=0.01):
    return {"test_accuracy": accuracy, "train_accuracy": [accuracy],
            "parameters": parameters, "seconds_per_step": seconds}


@pytest.mark.backend_independent
def test_the_ablation_tables_summarise_the_seeds():
    table = placement.render({
        "runs": {
            "interleaved": [fake_run(0.5), fake_run(0.6), fake_run(0.7)],
            "start": [fake_run(0.4), fake_run(0.4), fake_run(0.4)],
        },
        "ms_per_step": {"interleaved": 12.3, "start": 45.6},
    })
    assert "| interleaved | 1,000 | 60.0 ± 10.0 % (50.0-70.0) |" in table
    assert "| start | 1,000 | 40.0 ± 0.0 % (40.0-40.0) |" in table
    assert table.splitlines()[-1].endswith("| 46 |")
    table = weight_sharing.render({
        "runs": {name: [fake_run(0.5, parameters)] for name, parameters in
                 (("paper", 10), ("none", 30), ("all", 5))},
        "ms_per_step": {"paper": 1.0, "none": 2.0, "all": 3.0},
    })
    assert "| none | 30 | 50.0 ± 0.0 % (50.0-50.0) |" in table
    assert "| 50.0 % | 2 |" in table


@pytest.mark.backend_independent
def test_models_are_timed_side_by_side_on_one_batch():
    images = random_images(count=8)
    labels = np.arange(8) % 3
    builders = {
        name: lambda width=width: permutation.build_cnn(images.shape[1:],
                                                        width=width)
        for name, width in (("narrow", 2), ("wide", 4))
    }
    milliseconds = experiment.step_times_side_by_side(
        builders, (images, labels), repeats=2, warmup=1)
    assert list(milliseconds) == ["narrow", "wide"]
    assert all(value > 0 for value in milliseconds.values())


@pytest.mark.backend_independent
def test_the_paper_sharing_runs_are_the_placement_runs():
    """Both experiments name the default variant alike, so it is trained
    once for both."""
    assert weight_sharing._variant("paper") == {
        "cross_attend_placement": "interleaved"}
    assert weight_sharing._variant("none")["weight_sharing"] == "none"


@pytest.mark.backend_independent
@pytest.mark.parametrize("arguments, message", [
    (["no_such_experiment"], "unknown experiment no_such_experiment"),
    (["--backend", "theano"], "invalid choice: 'theano'"),
])
def test_the_runner_rejects_bad_arguments_in_one_line(arguments, message):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.paper", *arguments],
        capture_output=True, text=True, cwd=experiment.ROOT)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.backend_independent
def test_the_permutation_experiment_writes_its_report(tmp_path):
    runner.run_experiment("permutation", quick=True, output=tmp_path)
    payload = json.loads((tmp_path / "permutation.json").read_text())
    results = payload["results"]["mnist"]
    assert set(results) == {"perceiver/original", "perceiver/permuted",
                            "cnn/original", "cnn/permuted"}
    gap = results["perceiver/original"]["invariance"]
    assert gap["max_abs_logit_difference"] < 1e-4
    assert payload["machine"]["cpus"] >= 1
    assert payload["command"].endswith("permutation")
    markdown = (tmp_path / "permutation.md").read_text()
    assert "| mnist | perceiver |" in markdown
    assert "| mnist | cnn |" in markdown
    assert (tmp_path / "permutation.png").stat().st_size > 1000
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 4


@pytest.mark.backend_independent
def test_the_report_counts_the_training_time_of_every_run():
    results = {"runs": {"a": [fake_run(0.5) | {"train_seconds": 60.0},
                              fake_run(0.5) | {"train_seconds": 120.0}]},
               "ms_per_step": {"a": 1.0}}
    assert runner.training_seconds(results) == 180.0
    assert runner.training_seconds({"trials": [{"score": 1.0}]}) == 0.0
