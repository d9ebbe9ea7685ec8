"""`ImagePreprocessor` as a model's preprocessor: saved with the model and
used by `predict` on image files. (Its numbers against transformers' are
checked in tests/pretrained/checkpoints_test.py.)"""

import keras
import numpy as np
import pytest
from bad_input import assert_value_error
from command_line import run_in_process
from data_source_files import write_image, write_wav
from support import to_numpy

import keras_perceiver as kp
from keras_perceiver import pretrained
from keras_perceiver.preprocessing import ImagePreprocessor


def tiny_classifier(**kwargs):
    encoder = kp.PerceiverEncoder(
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=1, num_bands=2,
        block_scheme="perceiver_io")
    return kp.PerceiverIOClassifier(encoder, num_classes=2,
                                    class_names=["cat", "dog"], **kwargs)


@pytest.mark.backend_independent
def test_the_checkpoint_preprocessor_is_the_pretrained_one():
    assert pretrained.ImagePreprocessor is ImagePreprocessor


@pytest.mark.backend_independent
def test_config_round_trips_through_keras_serialization():
    preprocessor = ImagePreprocessor(size=(8, 6), crop_size=10,
                                     do_normalize=False)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(preprocessor))
    assert type(restored) is ImagePreprocessor
    assert restored.get_config() == preprocessor.get_config()


def test_a_classifier_keeps_it_in_a_keras_file(tmp_path):
    model = tiny_classifier(preprocessor=ImagePreprocessor(size=8,
                                                           crop_size=9))
    images = np.random.default_rng(0).uniform(size=(2, 8, 8, 3))
    outputs = to_numpy(model(images))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.preprocessor, ImagePreprocessor)
    assert loaded.preprocessor.get_config() == (
        model.preprocessor.get_config())
    np.testing.assert_allclose(to_numpy(loaded(images)), outputs, atol=1e-6)


def test_predict_reads_image_files_through_it(tmp_path):
    model = tiny_classifier(preprocessor=ImagePreprocessor(size=8,
                                                           crop_size=9))
    model.build((None, 8, 8, 3))
    model.save(tmp_path / "model.keras")
    path = tmp_path / "image.png"
    write_image(path, (12, 10), np.random.default_rng(0))
    result = run_in_process("predict", str(tmp_path / "model.keras"),
                            str(path), "--top-k", "1")
    assert result.returncode == 0, result.stderr
    probabilities = to_numpy(keras.ops.softmax(
        model(model.preprocessor([path]))))[0]
    name = ["cat", "dog"][probabilities.argmax()]
    assert f"1. {name} ({probabilities.max():.3f})" in result.stdout


# Bad input.

@pytest.mark.backend_independent
@pytest.mark.parametrize("item", [3, np.zeros((8, 8), "float32")])
def test_items_that_are_not_images_are_refused(item):
    assert_value_error(lambda: ImagePreprocessor(size=8)([item]),
                       "must be a file path, a PIL image or a uint8 array",
                       "Received:")


@pytest.mark.backend_independent
def test_a_file_of_another_modality_is_refused(tmp_path):
    write_wav(tmp_path / "sound.wav", 100, np.random.default_rng(0))
    assert_value_error(
        lambda: ImagePreprocessor(size=8)([tmp_path / "sound.wav"]),
        "sound.wav", "is not a readable image")
