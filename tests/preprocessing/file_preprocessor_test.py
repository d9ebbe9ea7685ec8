"""`FilePreprocessor`: files read as in training, kept by the model.

Each task keeps its preprocessor in its config (`.keras` round trip);
models saved with the `input_preprocessing` dict of earlier releases load
with it as a `FilePreprocessor`; `predict` on files reads them through it.
"""

import pathlib

import keras
import numpy as np
import pytest
from bad_input import assert_value_error
from command_line import run_in_process
from data_source_files import write_image, write_wav
from PIL import Image
from support import tiny_perceiver, to_numpy

import keras_perceiver as kp
from keras_perceiver.preprocessing import FilePreprocessor

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures"
# Saved by tests/fixtures/make_perceiver_input_preprocessing.py before the
# preprocessor: its config holds `input_preprocessing`.
OLD_FIXTURE = "perceiver_input_preprocessing"
GREY_8 = {"modality": "image", "image_size": [8, 8], "channels": 1}


def grey_images(folder, count=2):
    """`count` 8 x 8 grey PNGs in `folder`; returns their paths."""
    rng = np.random.default_rng(0)
    paths = [folder / f"image_{index}.png" for index in range(count)]
    for path in paths:
        write_image(path, (8, 8), rng, mode="L")
    return paths


@pytest.mark.backend_independent
def test_config_is_the_settings_dict_and_round_trips():
    preprocessor = FilePreprocessor(**GREY_8)
    assert preprocessor.get_config() == GREY_8
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(preprocessor))
    assert type(restored) is FilePreprocessor
    assert restored.get_config() == GREY_8


@pytest.mark.backend_independent
def test_images_are_read_at_the_recorded_size_scaled_to_one(tmp_path):
    paths = grey_images(tmp_path)
    inputs = FilePreprocessor(**GREY_8)(paths)
    expected = np.stack([np.asarray(Image.open(path), "float32")[..., None]
                         for path in paths]) / 255
    np.testing.assert_allclose(inputs, expected, atol=1e-6)


@pytest.mark.backend_independent
def test_read_files_is_the_preprocessor_stream(tmp_path):
    paths = grey_images(tmp_path)
    streamed = np.stack(list(kp.datasets.read_files(paths, GREY_8)))
    np.testing.assert_array_equal(streamed,
                                  FilePreprocessor(**GREY_8)(paths))


def test_a_perceiver_keeps_its_preprocessor_in_a_keras_file(tmp_path):
    model = tiny_perceiver(preprocessor=FilePreprocessor(**GREY_8))
    inputs = np.random.default_rng(0).uniform(size=(2, 8, 8, 1))
    outputs = to_numpy(model(inputs))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.preprocessor, FilePreprocessor)
    assert loaded.preprocessor.get_config() == GREY_8
    assert loaded.input_preprocessing == GREY_8
    np.testing.assert_allclose(to_numpy(loaded(inputs)), outputs, atol=1e-6)


def test_a_model_saved_with_input_preprocessing_loads_it_as_a_preprocessor():
    recorded = np.load(FIXTURES / f"{OLD_FIXTURE}.npz")
    model = keras.saving.load_model(FIXTURES / f"{OLD_FIXTURE}.keras")
    assert isinstance(model.preprocessor, FilePreprocessor)
    assert model.preprocessor.get_config() == GREY_8
    config = model.get_config()
    assert "input_preprocessing" not in config
    assert config["preprocessor"]["config"] == GREY_8
    np.testing.assert_allclose(to_numpy(model(recorded["inputs"])),
                               recorded["outputs"], rtol=1e-5, atol=1e-5)


def test_predict_reads_files_through_the_model_preprocessor(tmp_path,
                                                            capsys):
    model = kp.Perceiver(
        num_classes=2, class_names=["cat", "dog"], num_latents=4,
        latent_dim=8, num_blocks=1, num_self_attends_per_block=1,
        num_self_heads=1, num_bands=2,
        preprocessor=FilePreprocessor(**GREY_8),
    )
    model.build((None, 8, 8, 1))
    model.save(tmp_path / "model.keras")
    paths = grey_images(tmp_path)
    result = run_in_process("predict", str(tmp_path / "model.keras"),
                            *map(str, paths), "--top-k", "1")
    assert result.returncode == 0, result.stderr
    expected = to_numpy(keras.ops.softmax(model(model.preprocessor(paths))))
    for path, probabilities in zip(paths, expected):
        name = ["cat", "dog"][probabilities.argmax()]
        assert (f"{path}:\n  1. {name} ({probabilities.max():.3f})"
                in result.stdout)


# Bad input.

@pytest.mark.backend_independent
@pytest.mark.parametrize("item", [3, np.zeros((8, 8), "uint8"), None])
def test_items_that_are_not_paths_are_refused(item):
    assert_value_error(lambda: FilePreprocessor(**GREY_8)([item]),
                       "takes file paths of image files", "Received:")


@pytest.mark.backend_independent
def test_a_file_of_another_modality_is_refused(tmp_path):
    write_wav(tmp_path / "sound.wav", 100, np.random.default_rng(0))
    assert_value_error(
        lambda: FilePreprocessor(**GREY_8)([tmp_path / "sound.wav"]),
        "reads image files (.png", "Received:", "sound.wav")


@pytest.mark.backend_independent
def test_files_for_a_modality_without_files_are_refused():
    preprocessor = FilePreprocessor("video", image_size=[8, 8], channels=1,
                                    num_frames=4)
    assert_value_error(lambda: preprocessor(["clip.png"]),
                       "video data, which do not come in files",
                       "Received: modality='video'")


@pytest.mark.backend_independent
def test_no_files_are_refused():
    assert_value_error(lambda: FilePreprocessor(**GREY_8)([]),
                       "at least one item", "Received: an empty list")


@pytest.mark.backend_independent
def test_a_modality_that_is_not_a_name_is_refused():
    assert_value_error(lambda: FilePreprocessor(modality=None),
                       "`modality` must be the name of a modality",
                       "Received: modality=None")


@pytest.mark.backend_independent
def test_a_perceiver_refuses_preprocessor_and_input_preprocessing():
    assert_value_error(
        lambda: tiny_perceiver(input_preprocessing=GREY_8,
                               preprocessor=FilePreprocessor(**GREY_8)),
        "not both", "Received: input_preprocessing=")
