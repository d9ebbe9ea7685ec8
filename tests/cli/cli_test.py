"""The keras-perceiver command, called through its `main` in the test's
process (`command_line.run_in_process`): the same parsing, runs and one-line
errors as in a process of its own. New processes only where the backend a
process starts with is what is tested."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
from command_line import (
    ONE_BATCH,
    SCRIPT,
    TINY_MODEL,
    assert_one_line_error,
    epochs_logged,
    run_in_process,
)
from support import tiny_digits_model_file


def auto_jit_compile():
    """What Keras' `jit_compile="auto"` resolves to for a Perceiver here:
    XLA on JAX, and on TensorFlow only with a GPU; torch stays eager."""
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Keras' own test; physical devices leave TensorFlow uninitialised.
        return bool(tf.config.list_physical_devices("GPU"))
    return backend == "jax"


@pytest.mark.slow
def test_train_evaluate_and_predict_on_digits(tmp_path):
    # (--backend, which starts a process for another backend: the
    # two-device runs of tests/distribution/distribution_test.py.) On
    # TensorFlow the run is XLA-compiled (--jit-compile), which Keras'
    # "auto" leaves off without a GPU: JAX compiles every run; torch's
    # compiled blocks cost tens of seconds of compiling, and
    # tests/training/regional_compile_test.py trains such a model;
    # TensorFlow's two-device run trains without XLA.
    jit_compile = keras.config.backend() == "tensorflow"
    result = run_in_process("train", "--dataset", "digits", "--epochs", "2",
                            "--output-dir", tmp_path, *ONE_BATCH,
                            *TINY_MODEL,
                            *["--jit-compile"] * jit_compile)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("model.keras", "history.csv", "training_curves.png",
                 "attention_maps.png", "metrics.json"):
        assert (tmp_path / name).is_file(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["backend"] == keras.config.backend()
    assert metrics["jit_compile"] is (jit_compile or auto_jit_compile())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert epochs_logged(tmp_path / "history.csv") == [0, 1]

    result = run_in_process("evaluate", tmp_path / "model.keras",
                            "--dataset", "digits", *ONE_BATCH)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test accuracy" in result.stdout

    result = run_in_process("predict", tmp_path / "model.keras",
                            "--dataset", "digits", "--output",
                            tmp_path / "predictions.csv", *ONE_BATCH)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert len(rows) == 1 + 359


@pytest.mark.slow
def test_evaluate_and_predict_errors_are_one_line(tmp_path):
    # (An untrained model: test_train_evaluate_and_predict_on_digits runs
    # the commands on a trained one.)
    model = tiny_digits_model_file(tmp_path)
    # MNIST's 28x28 images, not digits' 8x8 (a tiny copy, so that a
    # missing data folder cannot pass for the shape error).
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    np.savez(mnist / "mnist.npz", x_train=np.zeros((2, 28, 28), "uint8"),
             y_train=np.arange(2), x_test=np.zeros((2, 28, 28), "uint8"),
             y_test=np.arange(2))
    result = run_in_process("evaluate", model, "--dataset", "mnist",
                            "--data-dir", mnist)
    # The received batch size is None on TensorFlow (a traced function).
    assert_one_line_error(result, "(None, 8, 8, 1). Received: images.shape=(")
    assert ", 28, 28, 1)" in result.stderr

    images = np.random.default_rng(0).uniform(size=(3, 8, 8, 1))
    with_nan = images.copy()
    with_nan[1, 2, 3] = np.nan
    cases = {
        "empty.npy": (np.zeros((0, 8, 8, 1)), "no examples to predict"),
        "nan.npy": (with_nan, "example 1) are not finite"),
        "wrong.npy": (np.zeros((2, 9, 9, 1)), "(None, 8, 8, 1). Received"),
    }
    for name, (array, message) in cases.items():
        np.save(tmp_path / name, array.astype("float32"))
        result = run_in_process("predict", model, "--input", tmp_path / name)
        assert_one_line_error(result, message)
    np.savez(tmp_path / "cut.npz", inputs=images)
    cut = (tmp_path / "cut.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(cut[:len(cut) // 2])
    result = run_in_process("predict", model, "--input", tmp_path / "cut.npz")
    assert_one_line_error(result, "not a readable .npy or .npz")
    # Whole archives with damaged contents: the zip's CRC-32 check fails.
    np.savez(tmp_path / "inputs.npz", inputs=images)
    write_with_damaged_middle(tmp_path / "inputs.npz",
                              tmp_path / "bad_crc.npz")
    write_with_damaged_middle(model, tmp_path / "damaged.keras")
    result = run_in_process("predict", model, "--input",
                            tmp_path / "bad_crc.npz")
    assert_one_line_error(result, "Bad CRC-32")
    result = run_in_process("predict", tmp_path / "damaged.keras",
                            "--input", tmp_path / "inputs.npz")
    assert_one_line_error(result, "cannot load")
    result = run_in_process("predict", model, "--input",
                            tmp_path / "nan.npy", "--output", tmp_path)
    assert_one_line_error(result, "is a directory")
    assert "example 0" not in result.stdout  # refused before predicting
    (tmp_path / "empty.keras").write_bytes(b"")
    result = run_in_process("evaluate", tmp_path / "empty.keras",
                            "--dataset", "digits")
    assert_one_line_error(result, "not a .keras file")


def write_with_damaged_middle(source, destination):
    """Copies `source` with 64 bytes in its middle inverted."""
    data = bytearray(source.read_bytes())
    middle = slice(len(data) // 2, len(data) // 2 + 64)
    data[middle] = bytes(255 - byte for byte in data[middle])
    destination.write_bytes(bytes(data))


@pytest.mark.backend_independent
@pytest.mark.slow
def test_a_run_stopped_after_fit_finishes_without_training_again(
        tmp_path, monkeypatch):
    """Also: the default output directory, --validation-split 0, a finished
    run started again, --continue."""
    train = ["train", "--dataset", "digits", "--validation-split", "0",
             "--batch-size", "64", *TINY_MODEL]
    monkeypatch.chdir(tmp_path)  # where the default output directory goes
    result = run_in_process(*train, "--epochs", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = tmp_path / "runs" / "digits" / "latest"
    assert run_dir.is_symlink() and run_dir.resolve().parent == run_dir.parent
    assert epochs_logged(run_dir / "history.csv") == [0]
    # As if killed after fit, before the results were written.
    for name in ("model.keras", "metrics.json", "training_curves.png"):
        (run_dir / name).unlink()
    again = [*train, "--output-dir", str(run_dir)]
    result = run_in_process(*again, "--epochs", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Resuming after epoch 1" in result.stdout
    assert "Epoch 1/1" not in result.stdout  # not trained again
    assert epochs_logged(run_dir / "history.csv") == [0]
    assert (run_dir / "model.keras").is_file()
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 1

    result = run_in_process(*again, "--epochs", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "finished after 1 epochs" in result.stdout
    assert_one_line_error(run_in_process(*again, "--epochs", "2"),
                          "--continue")
    result = run_in_process(*again, "--epochs", "2", "--continue")
    assert result.returncode == 0, result.stderr[-2000:]
    assert epochs_logged(run_dir / "history.csv") == [0, 1]
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 2
    assert_one_line_error(run_in_process(*again, "--epochs", "1"),
                          "more than --epochs 1")
    assert_one_line_error(run_in_process(*again, "--epochs", "2",
                                         "--learning-rate", "0.01"),
                          "learning_rate: 0.001 there, 0.01 now")


@pytest.mark.backend_independent
@pytest.mark.slow
def test_a_non_finite_loss_stops_training_with_one_line(tmp_path):
    result = run_in_process("train", "--dataset", "digits", "--epochs", "2",
                         "--learning-rate", "1e30", "--schedule", "constant",
                         "--output-dir", str(tmp_path), *TINY_MODEL)
    assert_one_line_error(result, "The training loss became")
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.backend_independent
@pytest.mark.slow
def test_an_output_directory_in_use_is_refused(tmp_path):
    from keras_perceiver.training.run_directory import RunDirectory

    # flock: a second lock on the folder fails in the process that holds
    # it as in any other.
    with RunDirectory(tmp_path):
        result = run_in_process("train", "--dataset", "digits",
                                "--output-dir", tmp_path)
    assert_one_line_error(result, f"in use by another run (process "
                                  f"{os.getpid()})")


@pytest.mark.backend_independent
@pytest.mark.slow
def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_one_line_warning(
        tmp_path):
    (tmp_path / ".keras-perceiver").write_text("")  # a folder of this tool
    (tmp_path / ".lock").write_text("999999999\n")  # a process long dead
    (tmp_path / "metrics.json").write_text(
        json.dumps({"epochs": 1, "test_accuracy": 0.5})
    )
    result = run_in_process("train", "--dataset", "digits", "--epochs", "1",
                            "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "finished after 1 epochs" in result.stdout
    warnings = [line for line in result.stderr.splitlines()
                if "999999999" in line]
    assert warnings == [
        f"keras-perceiver: warning: Taking over {tmp_path}: process "
        "999999999, which held it, ended without releasing it"
    ], result.stderr[-2000:]
    assert "UserWarning" not in result.stderr


@pytest.mark.backend_independent
def test_an_output_directory_that_cannot_be_written_is_refused_first(
        tmp_path):
    message = "Cannot write to the output directory"
    if os.geteuid() == 0:  # root writes anywhere but in sysfs
        read_only = pathlib.Path("/sys/kernel")
        # Not this tool's folder: refused before trying to write there.
        message = "keras-perceiver did not write"
    else:
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o555)
    # Refused before the (missing) data is looked at.
    result = run_in_process("train", "--dataset", "mnist", "--data-dir",
                            "/nonexistent", "--output-dir", read_only)
    assert_one_line_error(result, message)


@pytest.mark.backend_independent
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
        (["train", "--dataset", "digits", "--learning-rate", "nan"],
         "--learning-rate must be a positive number"),
        (["train", "--dataset", "digits", "--learning-rate", "-1"],
         "--learning-rate must be a positive number"),
        (["train", "--dataset", "digits", "--weight-decay", "inf"],
         "--weight-decay"),
        (["train", "--dataset", "digits", "--dropout", "1.5"], "--dropout"),
        (["evaluate", "model.keras", "--dataset", "digits", "--batch-size",
          "-1"], "--batch-size must be a positive integer"),
    ],
)
def test_bad_input_exits_with_a_one_line_error(arguments, message):
    assert_one_line_error(run_in_process(*arguments), message)


def test_jit_compile_reaches_the_compiled_model():
    from keras_perceiver import backend_differences, datasets
    from keras_perceiver.cli.main import build_parser
    from keras_perceiver.cli.train import run_spec
    from keras_perceiver.training.training_run import compiled_model

    dataset = datasets.load("digits")
    arguments = ["train", "--dataset", "digits", *TINY_MODEL]
    # On torch --jit-compile compiles the repeated blocks, the step eager.
    blocks = backend_differences.current().compiles_repeated_blocks
    for flags in ([], ["--jit-compile"]):
        args = build_parser().parse_args(arguments + flags)
        model = compiled_model(run_spec(args, None), dataset)
        expected = (bool(flags) and not blocks) or auto_jit_compile()
        assert model.jit_compile is expected, flags


def test_commands_load_a_model_without_its_training_setup(tmp_path):
    from keras_perceiver import datasets
    from keras_perceiver.cli.model_file import load_keras_model
    from keras_perceiver.models import perceiver_for_dataset
    from keras_perceiver.training import compile_for_classification

    model = perceiver_for_dataset(datasets.load("digits"), num_latents=8,
                                  latent_dim=16, num_blocks=1)
    compile_for_classification(model, jit_compile=True)
    model.save(tmp_path / "model.keras")
    loaded = load_keras_model(tmp_path / "model.keras")
    # Keras' "auto" again: predict does not torch.compile after a
    # --jit-compile run.
    assert loaded.jit_compile is auto_jit_compile()
    assert not loaded.compiled


def test_jit_compile_is_refused_where_devices_cannot_run_it(tmp_path):
    from keras_perceiver import backend_differences

    if backend_differences.current().trains_jit_compiled_on_devices:
        pytest.skip("jit_compile trains on this backend's devices")
    result = run_in_process("train", "--dataset", "digits", "--devices", "2",
                            "--jit-compile", "--output-dir", tmp_path)
    assert_one_line_error(result, "--jit-compile")


@pytest.mark.backend_independent
def test_wrong_file_format_exits_with_a_one_line_error(tmp_path):
    (tmp_path / "mnist.npz").write_text("not an npz")
    result = run_in_process("train", "--dataset", "mnist", "--data-dir",
                            tmp_path)
    assert_one_line_error(result, "not a readable .npz")


@pytest.mark.backend_independent
def test_a_backend_that_is_not_installed_is_a_one_line_error(monkeypatch):
    from keras_perceiver.cli import main

    real_find_spec = main.importlib.util.find_spec
    monkeypatch.setattr(
        main.importlib.util, "find_spec",
        lambda name: None if name == "jax" else real_find_spec(name),
    )
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert main.main(["--backend", "jax", "train", "--dataset", "digits"]) == 2


# The `keras-perceiver` script (`SCRIPT`), optionally with JAX looking
# uninstalled.
WITHOUT_JAX = ("import importlib.util as util; find_spec = util.find_spec; "
               "util.find_spec = lambda name, *rest: None if name == 'jax' "
               "else find_spec(name, *rest); ")


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "keras_backend, script, message",
    [
        ("tensorflwo", SCRIPT, "KERAS_BACKEND must be one of jax, "
                               "tensorflow, torch; got 'tensorflwo'"),
        ("jax", WITHOUT_JAX + SCRIPT, "KERAS_BACKEND names the jax backend, "
                                      "which is not installed"),
        ("bogus", None, "KERAS_BACKEND must be one of jax, tensorflow, "
                        "torch; got 'bogus'"),
    ],
)
def test_an_unknown_or_uninstalled_keras_backend_is_a_one_line_error(
        keras_backend, script, message):
    # script None: `python -m keras_perceiver_command`.
    start = ["-m", "keras_perceiver_command"] if script is None else [
        "-c", script]
    result = subprocess.run(
        [sys.executable, *start, "train", "--dataset", "digits"],
        env=dict(os.environ, KERAS_BACKEND=keras_backend),
        capture_output=True, text=True, timeout=600,
        cwd=pathlib.Path(__file__).resolve().parents[2],
    )
    assert_one_line_error(result, message)


@pytest.mark.backend_independent
@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--learning-rate", "nan", "--learning-rate must be a positive "
                                   "number, got nan"),
        ("--learning-rate", "1e-4:inf:log", "got inf"),
        ("--learning-rate", "1e-3,0", "got 0.0"),
        ("--weight-decay", "-1,0.1", "--weight-decay must be a number >= 0"),
        ("--time-budget", "nan", "--time-budget must be >= 0 seconds"),
        ("--max-trials", "0", "--max-trials must be a positive integer, "
                              "got 0"),
    ],
)
def test_tune_refuses_numbers_out_of_range(option, value, message, capsys):
    from keras_perceiver.cli import main

    assert main.main(["tune", "--dataset", "digits", f"{option}={value}"]) \
        == 2
    assert message in capsys.readouterr().err

