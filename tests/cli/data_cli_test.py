"""`--data SOURCE` and `predict --model FILES` on the command line, called
through the command's `main` in the test's process
(`command_line.run_in_process`): the same runs and one-line errors as in a
process of its own."""

import csv

import pytest
from command_line import one_line_error, run_in_process
from data_source_files import (
    class_folder,
    prepare_tfds_images,
    prepare_tfds_videos,
)

TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "1", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]


# Files stream through tf.data whatever the backend; cli_test.py trains,
# evaluates and predicts through the command under each backend.
@pytest.mark.slow
@pytest.mark.one_backend("torch")
def test_train_evaluate_and_predict_files_of_a_folder(tmp_path):
    folder = class_folder(tmp_path / "photos", "image")
    run = tmp_path / "run"
    result = run_in_process(
        "train", "--data", folder, "--image-size", "6", "--epochs", "1",
        "--batch-size", "4", "--output-dir", run, *TINY_MODEL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "photos (image, 8 training examples, 2 classes)" in result.stdout
    result = run_in_process("evaluate", run / "model.keras", "--data",
                            folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "photos test accuracy" in result.stdout

    predictions = tmp_path / "predictions.csv"
    result = run_in_process("predict", "--model", run / "model.keras",
                            folder / "dog", folder / "cat" / "0.png",
                            "--top-k", "2", "--output", predictions)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{folder / 'cat' / '0.png'}:\n  1. " in result.stdout
    with open(predictions, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 6
    for row in rows:
        assert {row["class_1"], row["class_2"]} == {"cat", "dog"}
        total = float(row["probability_1"]) + float(row["probability_2"])
        assert total == pytest.approx(1.0, abs=1e-5)
        assert float(row["probability_1"]) >= float(row["probability_2"])


@pytest.mark.backend_independent
@pytest.mark.slow
def test_train_on_a_tfds_data_set_in_a_local_data_dir(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    data_dir = prepare_tfds_images(tmp_path / "tfds")
    result = run_in_process(
        "train", "--data",
        "tfds:tiny_shapes", "--data-dir", data_dir, "--epochs", "1",
        "--batch-size", "4", "--output-dir", tmp_path / "run", *TINY_MODEL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tiny_shapes (image, 10 training examples, 2 classes)" in (
        result.stdout)


@pytest.mark.backend_independent
@pytest.mark.slow
def test_train_and_evaluate_on_tfds_videos(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    data_dir = prepare_tfds_videos(tmp_path / "tfds")
    run = tmp_path / "run"
    result = run_in_process(
        "train", "--data", "tfds:tiny_videos", "--data-dir", data_dir,
        "--epochs", "1", "--batch-size", "4", "--output-dir", run,
        *TINY_MODEL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tiny_videos (video, 10 training examples, 2 classes)" in (
        result.stdout)
    result = run_in_process("evaluate", run / "model.keras", "--data",
                            "tfds:tiny_videos", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tiny_videos test accuracy" in result.stdout
    video = tmp_path / "clip.avi"
    video.write_bytes(b"")
    assert "takes video data, not files" in one_line_error(
        run_in_process("predict", "--model", run / "model.keras", video))


@pytest.mark.backend_independent
@pytest.mark.slow
def test_the_best_model_of_tune_predicts_files_by_class_name(tmp_path):
    pytest.importorskip("keras_tuner")
    folder = class_folder(tmp_path / "photos", "image")
    search = tmp_path / "search"
    result = run_in_process(
        "tune", "--data", folder,
        "--image-size", "6", "--max-trials", "1", "--epochs", "1",
        "--batch-size", "4", "--validation-split", "0.25", "--verbose", "0",
        "--output-dir", search, *TINY_MODEL,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    result = run_in_process("predict", "--model",
                            search / "best_model.keras",
                            folder / "cat" / "0.png", "--top-k", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    first = lines.index(f"{folder / 'cat' / '0.png'}:")
    named = {line.split()[1] for line in lines[first + 1:first + 3]}
    assert named == {"cat", "dog"}


def corrupt(folder):
    (folder / "dog" / "bad.png").write_bytes(b"not an image")
    return folder


def truncated_jpeg(folder):
    """A JPEG cut off half-way: its header reads, its pixels do not."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), "uint8")
    jpeg = io.BytesIO()
    Image.fromarray(pixels).save(jpeg, format="JPEG")
    whole = jpeg.getvalue()
    (folder / "dog" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    with Image.open(folder / "dog" / "cut.jpg") as image:
        assert image.size == (32, 32)
    return folder


def csv_without_label(folder):
    folder.mkdir()
    (folder / "table.csv").write_text("a,b\n1,2\n3,4\n")
    return folder / "table.csv"


@pytest.mark.backend_independent
@pytest.mark.slow
@pytest.mark.parametrize(
    "make, options, message",
    [
        (lambda f: f.mkdir() or f, [], "one subfolder of data files"),
        (lambda f: class_folder(f, "image", classes=["cat"]), [],
         "at least two classes"),
        (lambda f: class_folder(class_folder(f, "image"), "audio",
                                classes=["bird"]), [], "one modality"),
        (lambda f: corrupt(class_folder(f, "image")), [],
         "bad.png is not a readable image"),
        (lambda f: truncated_jpeg(class_folder(f, "image")), [],
         "cut.jpg is not a readable image"),
        (lambda f: "tfds:no_such_data", ["--data-dir", "{tmp}"],
         "has no data set 'no_such_data'"),
        (lambda f: "tfds:mnist", ["--data-dir", "{tmp}"], "not prepared"),
        (csv_without_label, [], "no label column 'label'"),
        (lambda f: class_folder(f, "image"), ["--label-column", "y"],
         "Unknown option for folders"),
    ],
)
def test_bad_data_is_one_line_and_writes_no_results(tmp_path, make, options,
                                                    message):
    source = make(tmp_path / "data")
    run = tmp_path / "run"
    options = [option.replace("{tmp}", str(tmp_path)) for option in options]
    result = run_in_process("train", "--data", source, *options,
                            "--output-dir", run, "--epochs", "1",
                            *TINY_MODEL)
    assert message in one_line_error(result)
    assert not (run / "model.keras").exists()
    assert not (run / "metrics.json").exists()


@pytest.mark.backend_independent
@pytest.mark.slow
@pytest.mark.parametrize("damage", [corrupt, truncated_jpeg])
def test_bad_files_are_skipped_and_counted_on_request(tmp_path, damage):
    folder = damage(class_folder(tmp_path / "data", "image"))
    result = run_in_process("train", "--data", folder, "--skip-bad-files",
                            "--epochs", "1", "--batch-size", "4",
                            "--output-dir", tmp_path / "run", *TINY_MODEL)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Skipped 1 unreadable files (the first: {folder / 'dog'}" in (
        result.stdout)


@pytest.mark.backend_independent
@pytest.mark.slow
def test_labels_and_files_a_model_cannot_read_are_one_line_errors(tmp_path):
    run = tmp_path / "run"
    folder = class_folder(tmp_path / "data", "sequence")
    result = run_in_process("train", "--data", folder, "--epochs", "1",
                            "--batch-size", "4", "--output-dir", run,
                            *TINY_MODEL)
    assert result.returncode == 0, result.stderr[-2000:]
    model = run / "model.keras"
    other = class_folder(tmp_path / "other", "sequence",
                         classes=["cat", "cow"])
    assert "never saw: ['cow']" in one_line_error(
        run_in_process("evaluate", model, "--data", other))
    assert "never saw: ['cow']" in one_line_error(
        run_in_process("predict", model, "--data", other))
    image = tmp_path / "a.png"
    image.write_bytes(b"")
    assert "is not a sequence file" in one_line_error(
        run_in_process("predict", "--model", model, image))
    bad = folder / "cat" / "bad.csv"
    bad.write_text("x,y\n1,oops\n")
    assert "bad.csv is not a readable sequence" in one_line_error(
        run_in_process("predict", "--model", model, folder / "cat"))
    output = tmp_path / "predictions.csv"
    result = run_in_process("predict", "--model", model, folder / "cat",
                            "--skip-bad-files", "--output", output)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Skipped 1 unreadable files" in result.stdout
    assert len(output.read_text().splitlines()) == 1 + 5
