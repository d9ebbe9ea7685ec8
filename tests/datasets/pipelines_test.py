"""`model.fit` from the input pipelines users have: NumPy, tf.data and
(on the torch backend) a PyTorch DataLoader, with plain and dict inputs."""

import importlib.util

import keras
import numpy as np
import pytest

from support import tiny_perceiver

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(32, 8, 8, 1)).astype("float32")
BYTES = rng.normal(size=(32, 12, 5)).astype("float32")
MASK = np.arange(12)[None].repeat(32, 0) < rng.integers(4, 13, (32, 1))
LABELS = rng.integers(0, 5, size=32)


def compiled_model(traced=False):
    """A one-block Perceiver (the pipelines are under test, and tracing
    TensorFlow's training step grows with the layers), compiled.

    On TensorFlow it trains eagerly unless `traced`: Keras feeds a traced
    and an eager step from the same pipeline, and tracing a step took ten
    times as long as two eager steps (tests/layer_harness.py). The
    masked tf.data pipeline trains traced, as `fit` does by default.
    """
    model = tiny_perceiver(num_blocks=1, num_self_attends_per_block=1)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=keras.config.backend() == "tensorflow" and not traced,
    )
    return model


def assert_fits(model, data, **kwargs):
    history = model.fit(data, epochs=2, verbose=0, **kwargs)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()


def test_numpy_arrays_and_dicts():
    assert_fits(compiled_model(), IMAGES, y=LABELS, batch_size=8)
    assert_fits(compiled_model(), {"inputs": BYTES, "mask": MASK}, y=LABELS,
                batch_size=8)


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                    reason="tf.data needs TensorFlow")
def test_tf_data():
    import tensorflow as tf

    images = tf.data.Dataset.from_tensor_slices((IMAGES, LABELS)).batch(8)
    assert_fits(compiled_model(), images)
    masked = tf.data.Dataset.from_tensor_slices(
        ({"inputs": BYTES, "mask": MASK}, LABELS)
    ).shuffle(32, seed=0).batch(8).prefetch(2)
    assert_fits(compiled_model(traced=True), masked)


@pytest.mark.skipif(keras.config.backend() != "torch",
                    reason="a PyTorch DataLoader feeds the torch backend")
def test_torch_data_loader():
    import torch

    class MaskedBytes(torch.utils.data.Dataset):
        def __len__(self):
            return len(LABELS)

        def __getitem__(self, index):
            inputs = {"inputs": BYTES[index], "mask": MASK[index]}
            return inputs, LABELS[index]

    images = torch.utils.data.TensorDataset(
        torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
    )
    assert_fits(compiled_model(),
                torch.utils.data.DataLoader(images, batch_size=8))
    assert_fits(
        compiled_model(),
        torch.utils.data.DataLoader(MaskedBytes(), batch_size=8,
                                    shuffle=True),
    )
