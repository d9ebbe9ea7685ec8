"""Shared helpers for the test suite (tiny configurations, round trips)."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_perceiver as kp

TINY_PERCEIVER = dict(
    num_classes=5,
    num_latents=8,
    latent_dim=16,
    num_blocks=2,
    num_self_attends_per_block=1,
    num_cross_heads=1,
    num_self_heads=2,
    num_bands=4,
)
# The tiny Perceiver of tests/fixtures/cross_backend/perceiver_*.keras,
# written when TINY_PERCEIVER had 3 blocks of 2 self-attends: its test also
# covers paper weight sharing over more than two blocks.
CROSS_BACKEND_PERCEIVER = dict(
    TINY_PERCEIVER, num_blocks=3, num_self_attends_per_block=2
)

# The paper's ImageNet model (Table 7), for 224 x 224 x 3 images.
IMAGENET_PERCEIVER = dict(
    num_classes=1000,
    num_latents=512,
    latent_dim=1024,
    num_blocks=8,
    num_self_attends_per_block=6,
    num_cross_heads=1,
    num_self_heads=8,
    num_bands=64,
    max_resolution=224,
    cross_widening_factor=1,
    self_widening_factor=1,
)


# A batch of 2: 6 latents of width 16 and a byte array of 10 elements with
# 7 channels, for the layers' tests.
_rng = np.random.default_rng(0)
LATENTS = _rng.normal(size=(2, 6, 16)).astype("float32")
INPUTS = _rng.normal(size=(2, 10, 7)).astype("float32")


def tiny_perceiver(**overrides):
    """A Perceiver small enough to run in milliseconds."""
    return kp.Perceiver(**{**TINY_PERCEIVER, **overrides})


def tiny_flow_model(**overrides):
    """An optical-flow model (`PerceiverOpticalFlow`) of a few weights."""
    encoder = kp.PerceiverEncoder(
        num_latents=4,
        latent_dim=8,
        num_blocks=1,
        num_self_attends_per_block=1,
        num_self_heads=2,
        block_scheme="perceiver_io",
        input_adapter=kp.adapters.FlowAdapter(num_channels=4, num_bands=2),
    )
    return kp.PerceiverOpticalFlow(encoder, **overrides)


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def other_backends():
    """The installed Keras backends other than the current one."""
    import importlib.util

    modules = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
    return [
        name
        for name, module in modules.items()
        if name != keras.config.backend()
        and importlib.util.find_spec(module) is not None
    ]


def run_under_backend(backend, script):
    """Runs a Python script in a fresh process under `backend`."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def adapter_outputs(adapter, inputs, **kwargs):
    """Calls an input adapter; returns its byte array and mask as NumPy."""
    byte_array, mask = adapter(inputs, **kwargs)
    return to_numpy(byte_array), None if mask is None else to_numpy(mask)


def compile_classifier(model, **compile_kwargs):
    """Compiles a model for integer labels and logits."""
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        **compile_kwargs,
    )
    return model


def assert_fit_runs(model, inputs, labels, epochs=2, batch_size=None,
                    **compile_kwargs):
    """A few training steps give finite losses; returns the history."""
    compile_classifier(model, **compile_kwargs)
    history = model.fit(
        inputs, labels, epochs=epochs, batch_size=batch_size, verbose=0
    )
    assert np.isfinite(history.history["loss"]).all()
    return history


def pad_along_first_axis(arrays, length, value=0.0):
    """Pads arrays `(L_i, ...)` to `(len(arrays), length, ...)` with a mask."""
    padded = np.full(
        (len(arrays), length) + arrays[0].shape[1:], value, np.float32
    )
    mask = np.zeros((len(arrays), length), bool)
    for index, array in enumerate(arrays):
        padded[index, :len(array)] = array
        mask[index, :len(array)] = True
    return padded, mask


def as_float32(tensor):
    """A tensor as a float32 NumPy array (bfloat16 included)."""
    return to_numpy(keras.ops.cast(tensor, "float32"))


def adapter_perceiver(adapter, **overrides):
    """A one-block tiny Perceiver on an input adapter (quick to compile)."""
    config = dict(num_blocks=1, num_self_attends_per_block=1)
    return tiny_perceiver(input_adapter=adapter, **{**config, **overrides})


def tiny_image_model_file(folder):
    """A tiny untrained image model saved as `folder/model.keras`: classes
    "cat" and "dog", and how to read 8x8 grey image files (for `predict`)."""
    return tiny_model_file(
        folder, ["cat", "dog"],
        input_preprocessing={"modality": "image", "image_size": [8, 8],
                             "channels": 1},
    )


def tiny_digits_model_file(folder):
    """A tiny untrained model of the digits data set (8x8 grey images, 10
    classes) saved as `folder/model.keras`, as `train --dataset digits`
    saves one, for the commands that load it."""
    return tiny_model_file(folder, [str(digit) for digit in range(10)])


def tiny_model_file(folder, class_names, **overrides):
    """A tiny untrained Perceiver on 8x8 grey images, saved as
    `folder/model.keras`; `overrides` are further `Perceiver` arguments."""
    model = kp.Perceiver(
        num_classes=len(class_names), class_names=class_names,
        num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=1, num_bands=2,
        **overrides,
    )
    model.build((None, 8, 8, 1))
    model.save(folder / "model.keras")
    return folder / "model.keras"


BACKENDS = ("tensorflow", "jax", "torch")


def spread_over_backends(*cases):
    """`pytest.param`s of `cases`, marked `one_backend` in turn.

    Args:
        *cases: tuples of parameter values (or single values).

    Returns:
        A list for `pytest.mark.parametrize`: case i runs under
        `BACKENDS[i % 3]` only.
    """
    return [
        pytest.param(*(case if isinstance(case, tuple) else (case,)),
                     marks=pytest.mark.one_backend(BACKENDS[i % 3]))
        for i, case in enumerate(cases)
    ]
