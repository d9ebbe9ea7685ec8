"""`.keras` files saved by keras-perceiver 0.1.0 keep loading.

The fixtures in `tests/fixtures/` were saved by the 0.1.0 release (JAX
backend) before the encoder was split out of `Perceiver`; they must load
and give the logits recorded beside them on every backend. The
`attention_layers_before_16` fixtures were saved just before issue 16
merged the attention layers: they must load with the same outputs and the
same weights, in the same order (an optimizer's saved state follows it).
"""

import pathlib

import keras
import numpy as np
import pytest

import keras_perceiver  # noqa: F401  (registers the saved classes)

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures"


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


# Saved by tests/fixtures/make_attention_layers_before_16.py before issue 16
# merged CrossAttention and SelfAttention into one attention block.
BEFORE_16 = "attention_layers_before_16"


@pytest.mark.parametrize("model_name", ["perceiver", "perceiver_io"])
def test_attention_layers_saved_before_16_load_with_the_same_outputs(
    model_name,
):
    recorded = np.load(FIXTURES / f"{BEFORE_16}.npz")
    model = keras.saving.load_model(FIXTURES / f"{BEFORE_16}_{model_name}.keras")
    inputs = {"inputs": recorded["byte_array"], "mask": recorded["mask"]}
    outputs = keras.ops.convert_to_numpy(model(inputs))
    np.testing.assert_allclose(
        outputs, recorded[f"{model_name}_outputs"], rtol=1e-5, atol=1e-5
    )
    # Same weights in the same order. A Perceiver holds its encoder since
    # issue 32, so its weights' paths gain "encoder/" (its file does not).
    paths = [weight.path.replace("perceiver/encoder/", "perceiver/")
             for weight in model.weights]
    assert paths == list(recorded[f"{model_name}_weight_paths"])
    assert [str(tuple(weight.shape)) for weight in model.weights] == list(
        recorded[f"{model_name}_weight_shapes"]
    )


def test_multimodal_autoencoder_saved_before_video_max_resolution_loads():
    """Saved by tests/fixtures/make_multimodal_autoencoder.py before the
    adapter took `video_max_resolution`: same outputs."""
    recorded = np.load(FIXTURES / "multimodal_autoencoder.npz")
    model = keras.saving.load_model(FIXTURES / "multimodal_autoencoder.keras")
    outputs = model({name: recorded[name]
                     for name in ("audio", "video", "label")})
    for name, value in outputs.items():
        np.testing.assert_allclose(keras.ops.convert_to_numpy(value),
                                   recorded[f"{name}_output"],
                                   rtol=1e-5, atol=1e-5)
