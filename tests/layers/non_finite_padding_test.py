"""NaN and inf in masked padding do not reach a Perceiver's outputs."""

import keras
import numpy as np
import pytest

from keras_perceiver import adapters
from support import adapter_perceiver, tiny_perceiver, to_numpy

rng = np.random.default_rng(0)


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
def test_non_finite_padding_of_a_byte_array_gives_the_logits_of_zeros(fill):
    model = tiny_perceiver()
    real = rng.normal(size=(2, 10, 6)).astype("float32")
    mask = np.arange(16)[None, :].repeat(2, 0) < 10
    zeros = np.concatenate([real, np.zeros((2, 6, 6), "float32")], axis=1)
    filled = zeros.copy()
    filled[~mask] = fill
    expected = to_numpy(model(zeros, mask=mask))
    result = to_numpy(model({"inputs": filled, "mask": mask}))
    assert np.isfinite(result).all()
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_non_finite_padding_through_an_adapter_gives_the_logits_of_zeros():
    model = adapter_perceiver(adapters.AudioAdapter(patch_size=4,
                                                    num_bands=2))
    zeros = rng.normal(size=(2, 32)).astype("float32")
    mask = np.arange(32)[None, :].repeat(2, 0) < 20
    zeros[~mask] = 0.0
    filled = zeros.copy()
    filled[~mask] = np.nan
    expected = to_numpy(model({"inputs": zeros, "mask": mask}))
    result = to_numpy(model({"inputs": filled, "mask": mask}))
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_non_finite_padding_has_finite_gradients():
    model = tiny_perceiver()
    x = rng.normal(size=(2, 12, 6)).astype("float32")
    mask = np.arange(12)[None, :].repeat(2, 0) < 8
    x[~mask] = np.nan
    model.compile(keras.optimizers.SGD(0.1), loss=keras.losses
                  .SparseCategoricalCrossentropy(from_logits=True))
    model.fit({"inputs": x, "mask": mask}, np.array([0, 1]), epochs=1,
              verbose=0)
    assert all(np.isfinite(to_numpy(w)).all() for w in model.weights)
