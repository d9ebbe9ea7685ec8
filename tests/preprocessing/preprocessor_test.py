"""`as_preprocessor`, `preprocessor_of`: a task's preprocessor argument and
the preprocessor a model keeps."""

import keras
import numpy as np
import pytest
from bad_input import assert_value_error
from support import tiny_perceiver

from keras_perceiver import preprocessing
from keras_perceiver.preprocessing import (
    FilePreprocessor,
    ImagePreprocessor,
    as_preprocessor,
)
from keras_perceiver.preprocessing.preprocessor import preprocessor_of

pytestmark = pytest.mark.backend_independent

SETTINGS = {"modality": "audio", "sample_rate": 8000, "max_length": 64,
            "audio_features": "waveform"}


@pytest.mark.parametrize("given", [
    SETTINGS,  # The `input_preprocessing` of earlier releases.
    FilePreprocessor(**SETTINGS),
    keras.saving.serialize_keras_object(FilePreprocessor(**SETTINGS)),
])
def test_every_form_of_a_preprocessor_gives_the_preprocessor(given):
    preprocessor = as_preprocessor(given)
    assert isinstance(preprocessor, FilePreprocessor)
    assert preprocessor.get_config() == SETTINGS


def test_none_stays_none():
    assert as_preprocessor(None) is None
    assert tiny_perceiver().get_config()["preprocessor"] is None


def test_a_wrapping_model_gives_its_task_preprocessor():
    task = tiny_perceiver(preprocessor=ImagePreprocessor(size=8))
    images = keras.Input((8, 8, 3))
    wrapper = keras.Model(images, task(images))
    assert preprocessor_of(wrapper) is task.preprocessor
    assert preprocessor_of(tiny_perceiver()) is None


def test_the_preprocessors_share_one_base():
    assert issubclass(FilePreprocessor, preprocessing.Preprocessor)
    assert issubclass(ImagePreprocessor, preprocessing.Preprocessor)


@pytest.mark.parametrize("given", [
    {"image_size": [8, 8]},  # No modality.
    "image",
    np.zeros(3),
])
def test_other_values_are_refused(given):
    assert_value_error(lambda: as_preprocessor(given),
                       "must be a keras_perceiver Preprocessor",
                       "Received: preprocessor=")
