"""The keras-perceiver command, run as users run it (in a subprocess)."""

import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "2", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]


def command(*arguments):
    return [sys.executable, "-m", "keras_perceiver.cli", *arguments]


def run_command(*arguments, timeout=600):
    return subprocess.run(command(*arguments), capture_output=True,
                          text=True, timeout=timeout)


def epochs_logged(history_path):
    if not history_path.is_file():
        return []
    with open(history_path, newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_train_evaluate_and_predict_on_digits(tmp_path):
    backend = keras.config.backend()
    result = run_command(
        "--backend", backend, "train", "--dataset", "digits", "--epochs",
        "2", "--output-dir", str(tmp_path), *TINY_MODEL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("model.keras", "history.csv", "training_curves.png",
                 "attention_maps.png", "metrics.json"):
        assert (tmp_path / name).is_file(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["backend"] == backend  # --backend took effect
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert epochs_logged(tmp_path / "history.csv") == [0, 1]

    result = run_command("evaluate", str(tmp_path / "model.keras"),
                         "--dataset", "digits")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy" in result.stdout

    mnist = SHARED_DATA / "mnist"
    result = run_command("evaluate", str(tmp_path / "model.keras"),
                         "--dataset", "mnist", "--data-dir", str(mnist))
    assert result.returncode == 2, result.stderr[-2000:]  # 28x28, not 8x8
    assert "Traceback" not in result.stderr

    result = run_command("predict", str(tmp_path / "model.keras"),
                         "--dataset", "digits", "--output",
                         str(tmp_path / "predictions.csv"))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert len(rows) == 1 + 359


def test_a_killed_run_resumes_from_its_last_epoch(tmp_path):
    arguments = ["train", "--dataset", "digits", "--epochs", "6",
                 "--batch-size", "16", "--output-dir", str(tmp_path),
                 *TINY_MODEL]
    history = tmp_path / "history.csv"
    process = subprocess.Popen(
        command(*arguments), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while len(epochs_logged(history)) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, "training ended before it was killed"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before_kill = len(epochs_logged(history))
    assert 2 <= finished_before_kill < 6

    result = run_command(*arguments)
    assert result.returncode == 0, result.stderr[-2000:]
    epochs = epochs_logged(history)
    # The second run starts at most one epoch before where the first
    # stopped, and the run ends with all six epochs logged.
    resumed_from = epochs[finished_before_kill]
    assert resumed_from >= finished_before_kill - 1
    assert sorted(set(epochs)) == list(range(6))


class StopAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_a_backup_cut_short_by_a_kill_falls_back_to_the_one_before(tmp_path):
    import numpy as np

    from keras_perceiver.cli.train import backup_callback

    x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, verbose=0,
                  callbacks=[backup_callback(tmp_path), StopAtEpoch(2)])
    latest = tmp_path / "backup" / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:100])  # as a kill mid-write

    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[backup_callback(tmp_path)])
    # Resumed from the backup of epoch 1 (not 2, which was lost).
    assert len(history.history["loss"]) == 4


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--dataset", "imagenet"], "Unknown data set"),
        (["train", "--dataset", "mnist", "--data-dir", "/nonexistent"],
         "does not exist"),
        (["train", "--dataset", "digits", "--epochs", "0"], "--epochs"),
        (["evaluate", "/nonexistent/model.keras", "--dataset", "digits"],
         "model file not found"),
        (["train", "--dataset", "digits", "--num-latents", "0"],
         "num_latents"),
        (["train", "--dataset", "digits", "--patch-size", "3"],
         "patch_size"),
        (["train", "--dataset", "digits", "--audio-features", "log_mel"],
         "audio_features"),
        (["train", "--dataset", "digits", "--output-dir", "/dev/null/x"],
         "output directory"),
    ],
)
def test_bad_input_exits_with_a_one_line_error(arguments, message):
    result = run_command(*arguments)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("keras-perceiver: error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_wrong_file_format_exits_with_a_one_line_error(tmp_path):
    (tmp_path / "mnist.npz").write_text("not an npz")
    result = run_command("train", "--dataset", "mnist", "--data-dir",
                         str(tmp_path))
    assert result.returncode == 2
    assert "not a readable .npz" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_backend_that_is_not_installed_is_a_one_line_error(monkeypatch):
    from keras_perceiver.cli import main

    real_find_spec = main.importlib.util.find_spec
    monkeypatch.setattr(
        main.importlib.util, "find_spec",
        lambda name: None if name == "jax" else real_find_spec(name),
    )
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert main.main(["--backend", "jax", "train", "--dataset", "digits"]) == 2
