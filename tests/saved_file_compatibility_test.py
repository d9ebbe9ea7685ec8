"""`.keras` files saved by keras-perceiver 0.1.0 keep loading.

The fixtures in `tests/fixtures/` were saved by the 0.1.0 release (JAX
backend) before the encoder was split out of `Perceiver`; they must load
and give the logits recorded beside them on every backend.
"""

import pathlib

import keras
import numpy as np

import keras_perceiver  # noqa: F401  (registers the saved classes)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _recorded():
    return np.load(FIXTURES / "perceiver_0_1_outputs.npz")


def test_image_perceiver_saved_by_0_1_loads_with_the_same_logits():
    recorded = _recorded()
    model = keras.saving.load_model(FIXTURES / "perceiver_0_1_image.keras")
    logits = keras.ops.convert_to_numpy(model(recorded["images"]))
    np.testing.assert_allclose(
        logits, recorded["image_logits"], rtol=1e-5, atol=1e-5
    )


def test_point_cloud_perceiver_saved_by_0_1_loads_with_the_same_logits():
    recorded = _recorded()
    model = keras.saving.load_model(
        FIXTURES / "perceiver_0_1_point_cloud.keras"
    )
    inputs = {"inputs": recorded["points"], "mask": recorded["mask"]}
    logits = keras.ops.convert_to_numpy(model(inputs))
    np.testing.assert_allclose(
        logits, recorded["cloud_logits"], rtol=1e-5, atol=1e-5
    )
