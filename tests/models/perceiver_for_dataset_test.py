"""`perceiver_for_dataset`: the input adapter each kind of data gets."""

import numpy as np
import pytest

from keras_perceiver import adapters
from keras_perceiver.datasets import Dataset
from keras_perceiver.models import perceiver_for_dataset

SMALL = dict(num_bands=2, num_latents=4, latent_dim=8, num_blocks=1,
             num_self_attends_per_block=1, num_self_heads=2)
rng = np.random.default_rng(0)
LABELS = np.array([0, 1, 0, 1])


def dataset(x, modality, modalities=None):
    return Dataset(name="small", x_train=x, y_train=LABELS, x_test=x,
                   y_test=LABELS, class_names=["a", "b"], modality=modality,
                   modalities=modalities)


def images():
    return rng.uniform(size=(4, 8, 8, 1)).astype("float32")


def spectrograms():
    mask = np.ones((4, 16), bool)
    mask[0, 12:] = False
    return {"inputs": rng.normal(size=(4, 16, 8)).astype("float32"),
            "mask": mask}


def test_plain_images_get_the_models_own_pixel_adapter():
    model = perceiver_for_dataset(dataset(images(), "image"), **SMALL)
    assert model.input_adapter.patch_grid == (8, 8)


def test_patches_and_crops_of_images():
    model = perceiver_for_dataset(dataset(images(), "image"), patch_size=2,
                                  crop_size=6, **SMALL)
    assert isinstance(model.input_adapter, adapters.ImageAdapter)
    assert model.input_adapter.patch_grid == (3, 3)


def test_spectrograms_get_4_by_4_patches_unless_asked_otherwise():
    data = dataset(spectrograms(), "spectrogram")
    model = perceiver_for_dataset(data, **SMALL)
    assert isinstance(model.input_adapter, adapters.SpectrogramAdapter)
    assert model.input_adapter.patch_grid == (4, 2)
    model = perceiver_for_dataset(data, patch_size=2, **SMALL)
    assert model.input_adapter.patch_grid == (8, 4)


def test_multimodal_data_gets_an_adapter_per_listed_modality():
    data = dataset({"image": images(), "audio": spectrograms()},
                   "multimodal", {"image": "image", "audio": "spectrogram"})
    model = perceiver_for_dataset(data, **SMALL)
    parts = model.input_adapter.adapters
    assert isinstance(parts["image"], adapters.ImageAdapter)
    assert isinstance(parts["audio"], adapters.SpectrogramAdapter)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(data.x_train, data.y_train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_an_unknown_modality_raises():
    with pytest.raises(ValueError, match="modality"):
        perceiver_for_dataset(dataset(images(), "smell"), **SMALL)


def test_patches_or_crops_for_data_without_a_grid_raise():
    points = dataset(rng.normal(size=(4, 10, 3)).astype("float32"), "points")
    with pytest.raises(ValueError, match="patch_size"):
        perceiver_for_dataset(points, patch_size=2, **SMALL)
    with pytest.raises(ValueError, match="crop_size"):
        perceiver_for_dataset(dataset(spectrograms(), "spectrogram"),
                              crop_size=4, **SMALL)


def test_multimodal_data_without_modalities_raises():
    data = dataset({"image": images(), "audio": spectrograms()},
                   "multimodal", {"image": "image", "audio": "spectrogram"})
    # Dataset refuses this when it is made (tests/datasets_test.py); here
    # the modalities are lost afterwards.
    data.modalities = None
    with pytest.raises(ValueError, match="modalities"):
        perceiver_for_dataset(data, **SMALL)
