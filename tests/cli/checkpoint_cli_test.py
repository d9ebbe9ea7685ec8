"""`keras-perceiver predict/train --checkpoint`, called through the
command's `main` in the test's process (`command_line.run_in_process`): the
same runs and one-line errors as in a process of its own.

The checkpoints are tiny random-weight transformers models saved with
`save_pretrained` in the test's folder; nothing is downloaded. The commands
run on one backend: the conversion's parity with transformers on each
backend is tests/checkpoints_test.py's.
"""

import json
import sys

import keras
import numpy as np
import pytest
from command_line import assert_one_line_error, run_in_process

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
from checkpoint_support import hf_image_processor  # noqa: E402
from checkpoint_support import save_tiny_checkpoint  # noqa: E402
from PIL import Image  # noqa: E402

import keras_perceiver  # noqa: E402, F401  (registers the model classes)

FOURIER = "PerceiverForImageClassificationFourier"
NAMES = {index: f"kind {index}" for index in range(5)}


@pytest.fixture()
def checkpoint(tmp_path):
    """A tiny Fourier checkpoint for 12 x 12 images, named classes."""
    folder = tmp_path / "checkpoint"
    model = save_tiny_checkpoint(FOURIER, folder, id2label=NAMES)
    hf_image_processor(12).save_pretrained(str(folder))
    return folder, model


def write_images(folder):
    paths = []
    for index, shape in enumerate([(40, 50, 3), (64, 32, 3)]):
        pixels = np.random.default_rng(index).integers(0, 256, shape,
                                                       np.uint8)
        path = folder / f"image_{index}.{'jpg' if index else 'png'}"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.mark.backend_independent
@pytest.mark.slow
def test_predict_prints_the_top_5_classes_of_image_files(checkpoint,
                                                        tmp_path):
    folder, hf_model = checkpoint
    paths = write_images(tmp_path)
    result = run_in_process("predict", "--checkpoint", folder, *paths)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 * 6
    for index, path in enumerate(paths):
        block = lines[6 * index:6 * index + 6]
        assert block[0] == f"{path}:"
        with torch.no_grad():
            logits = hf_model(**hf_image_processor(12)(
                Image.open(path), return_tensors="pt")).logits[0]
        probabilities = torch.softmax(logits, -1).numpy()
        best = np.argsort(-probabilities)
        for rank, line in enumerate(block[1:], start=1):
            index = int(best[rank - 1])
            probability = probabilities[index]
            assert line == f"  {rank}. {NAMES[index]} ({probability:.3f})"


@pytest.mark.backend_independent
@pytest.mark.slow
def test_train_fine_tunes_a_checkpoint_on_digits(checkpoint, tmp_path):
    folder, _ = checkpoint
    output = tmp_path / "run"
    result = run_in_process(
        "train", "--dataset", "digits", "--checkpoint", str(folder),
        "--epochs", "1", "--batch-size", "128", "--output-dir", str(output),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "new 10-class head" in result.stdout
    metrics = json.loads((output / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    model = keras.saving.load_model(output / "model.keras")
    classifier = model.get_layer("perceiver_io_classifier")
    assert classifier.class_names == [str(digit) for digit in range(10)]
    # Digits (8 x 8 grey) are resized to the checkpoint's 12 x 12 RGB.
    assert classifier.encoder.byte_array_shape[1] == 12 * 12


@pytest.mark.backend_independent
@pytest.mark.slow
def test_checkpoint_errors_are_one_line(checkpoint, tmp_path):
    folder, _ = checkpoint
    text_checkpoint = tmp_path / "text"
    save_tiny_checkpoint("PerceiverForMaskedLM", text_checkpoint)
    (image,) = write_images(tmp_path)[:1]
    cases = [
        (["predict", "--checkpoint", str(folder), "missing.jpg"],
         "image file not found"),
        (["predict", "--checkpoint", str(text_checkpoint), str(image)],
         "Only image classifiers take images"),
        (["predict", "--checkpoint", "keras-perceiver-tests/no-such-model",
          str(image)], "could not be fetched"),
        (["train", "--dataset", "digits", "--checkpoint", str(folder),
          "--image-size", "0"], "--image-size must be a positive integer"),
        (["train", "--dataset", "digits", "--checkpoint", str(folder),
          "--num-latents", "8", "--patch-size", "2"],
         "--checkpoint fixes the model: leave out --num-latents, "
         "--patch-size"),
        (["train", "--dataset", "digits", "--image-size", "32"],
         "--image-size needs --checkpoint"),
    ]
    for arguments, message in cases:
        assert_one_line_error(run_in_process(*arguments), message)


@pytest.mark.backend_independent
def test_predict_skips_unreadable_images_on_request(checkpoint, tmp_path,
                                                    monkeypatch):
    # Images for a checkpoint are read with Pillow alone: TensorFlow, an
    # extra of its own, is not needed.
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    folder, _ = checkpoint
    (image,) = write_images(tmp_path)[:1]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    arguments = ["predict", "--checkpoint", str(folder), str(broken),
                 str(image)]
    assert_one_line_error(run_in_process(*arguments), "broken.png")
    result = run_in_process(*arguments, "--skip-bad-files")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"Skipped 1 unreadable files (the first: {broken})"
    assert lines[1] == f"{image}:" and len(lines) == 1 + 6
