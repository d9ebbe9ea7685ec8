"""Bad input on the command line: one line, exit status 2, nothing touched.

Argument errors (unknown commands and options, bad values), the `predict`
syntax (`predict MODEL INPUT...`, `--model` as an alias, `--checkpoint
NAME IMAGE...`) and `--output` paths that cannot be written, which are
refused before any model is loaded or anything predicted. All run in the
test's process (`run_in_process`, or `main` itself for `--backend`).
"""

import numpy as np
import pytest
from bad_input import assert_refused, unchanged
from command_line import run_in_process
from support import tiny_image_model_file

from keras_perceiver.cli import main

pytestmark = pytest.mark.backend_independent


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    return tiny_image_model_file(tmp_path_factory.mktemp("model"))


# Argument errors: argparse's, as one line.
@pytest.mark.parametrize("arguments, fragments", [
    ([], ["required", "COMMAND"]),
    (["trian"], ["invalid choice: 'trian'", "keras-perceiver --help"]),
    (["train", "--epochs", "x"], ["train:", "--epochs", "invalid int"]),
    (["train", "--dataset", "digits", "--learning-rate", "fast"],
     ["--learning-rate", "invalid float"]),
    (["train", "--epochs", "1"], ["one of the arguments --dataset --data"]),
    (["train", "--dataset", "digits", "--data", "x.csv"],
     ["--data", "not allowed with argument --dataset"]),
    (["train", "--dataset", "digits", "--schedule", "linear"],
     ["--schedule", "invalid choice: 'linear'"]),
    (["train", "--dataset", "digits", "--no-such-flag"],
     ["unrecognized arguments: --no-such-flag"]),
    (["evaluate", "--dataset", "digits"], ["evaluate:", "model"]),
    (["evaluate", "model.keras", "--dataset", "digits", "--checkpoint",
      "deepmind/vision-perceiver-conv"], ["unrecognized", "--checkpoint"]),
    (["export", "model.keras"], ["export:", "output_dir"]),
    (["tune", "--dataset", "digits", "--tuner", "grid"],
     ["--tuner", "invalid choice: 'grid'"]),
], ids=["no_command", "unknown_command", "epochs_not_a_number",
        "learning_rate_not_a_number", "no_data", "two_data_sources",
        "unknown_schedule", "unknown_option", "evaluate_without_model",
        "evaluate_has_no_checkpoint", "export_without_folder",
        "unknown_tuner"])
def test_argument_errors_are_one_line(arguments, fragments, tmp_path,
                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    with unchanged(tmp_path):
        assert_refused(run_in_process(*arguments), *fragments)


@pytest.mark.parametrize("arguments, fragments", [
    (["--backend", "theano", "train", "--dataset", "digits"],
     ["--backend", "invalid choice: 'theano'"]),
    (["train", "--backend", "jax", "--dataset", "digits"],
     ["unrecognized arguments: --backend jax"]),
], ids=["unknown_backend", "backend_after_the_command"])
def test_backend_errors_are_one_line(arguments, fragments, capsys):
    # run_in_process refuses --backend (another backend needs a process);
    # these are refused before any backend is touched.
    assert main.main(arguments) == 2
    line, = capsys.readouterr().err.splitlines()
    assert line.startswith("keras-perceiver: error: ")
    for fragment in fragments:
        assert fragment in line


# The predict syntax.
@pytest.mark.parametrize("arguments, fragments", [
    (["predict"], ["give the model", "predict MODEL FILE_OR_FOLDER"]),
    (["predict", "model.keras"], ["give the model, then what to predict"]),
    (["predict", "model.keras", "a.png", "--input", "x.npy"],
     ["not both"]),
    (["predict", "--model", "model.keras", "--dataset", "digits", "a.png"],
     ["not both"]),
    (["predict", "model.keras", "a.png", "--top-k", "0"],
     ["--top-k must be a positive integer, got 0"]),
    (["predict", "model.keras", "--input", "x.npy", "--batch-size", "0"],
     ["--batch-size must be a positive integer, got 0"]),
    (["predict", "--checkpoint", "deepmind/vision-perceiver-conv"],
     ["predict --checkpoint NAME IMAGE"]),
    (["predict", "--checkpoint", "deepmind/vision-perceiver-conv",
      "--model", "model.keras", "a.png"], ["--model or --checkpoint"]),
    (["predict", "--checkpoint", "deepmind/vision-perceiver-conv", "a.png",
      "--input", "x.npy"], ["not both"]),
], ids=["nothing", "model_alone", "files_and_input", "alias_and_dataset",
        "top_k_zero", "batch_size_zero", "checkpoint_without_images",
        "checkpoint_and_model", "checkpoint_and_input"])
def test_predict_syntax_errors_are_one_line(arguments, fragments, tmp_path,
                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    with unchanged(tmp_path):
        assert_refused(run_in_process(*arguments), *fragments)


def test_predict_files_that_are_no_model_is_one_line(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    with unchanged(tmp_path):
        assert_refused(
            run_in_process("predict", tmp_path / "a.png", tmp_path / "b.png"),
            "a.png", "not a .keras file")


@pytest.mark.parametrize("name, fragments", [
    ("missing.png", ["file not found", "missing.png"]),
    ("notes.txt", ["notes.txt is not a image file"]),
], ids=["missing_file", "file_of_another_modality"])
def test_predict_files_the_model_cannot_read(name, fragments, image_model,
                                             tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with unchanged(tmp_path):
        assert_refused(
            run_in_process("predict", image_model, tmp_path / name),
            *fragments)


# --output: checked before any work (the model named does not even exist).
@pytest.mark.parametrize("output, fragments", [
    (".", ["is a directory; give a file"]),
    ("no/such/folder/out.csv", ["the directory", "does not exist"]),
    ("a-file.txt/out.csv", ["a-file.txt", "does not exist"]),
], ids=["folder", "missing_folder", "under_a_file"])
@pytest.mark.parametrize("source", [
    ["missing.keras", "a.png"], ["missing.keras", "--input", "x.npy"],
    ["--checkpoint", "no/such/checkpoint", "a.png"],
], ids=["files", "arrays", "checkpoint"])
def test_predict_output_that_cannot_be_written_is_refused_first(
        output, fragments, source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file.txt").write_text("mine")
    with unchanged(tmp_path):
        result = run_in_process("predict", *source, "--output", output)
        assert_refused(result, "--output", *fragments)
    assert result.stdout == ""


def test_predict_output_folder_is_refused_before_predicting(image_model,
                                                             tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), "uint8")).save(tmp_path / "a.png")
    with unchanged(tmp_path):
        result = run_in_process("predict", image_model, tmp_path / "a.png",
                                "--output", tmp_path)
        assert_refused(result, "is a directory")
    assert "cat" not in result.stdout and "dog" not in result.stdout
