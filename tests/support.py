"""Shared helpers for the test suite (tiny configurations, round trips)."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

import keras_perceiver as kp

TINY_PERCEIVER = dict(
    num_classes=5,
    num_latents=8,
    latent_dim=16,
    num_blocks=3,
    num_self_attends_per_block=2,
    num_cross_heads=1,
    num_self_heads=2,
    num_bands=4,
)


def tiny_perceiver(**overrides):
    """A Perceiver small enough to run in milliseconds."""
    return kp.Perceiver(**{**TINY_PERCEIVER, **overrides})


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def assert_config_round_trip(layer):
    """config -> from_config -> the same config."""
    config = layer.get_config()
    restored = layer.__class__.from_config(config)
    assert restored.get_config() == config


def assert_keras_file_round_trip(model, inputs, tmp_path):
    """A `.keras` save and load gives the same predictions."""
    expected = to_numpy(model(inputs))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(restored(inputs)), expected, rtol=1e-6, atol=1e-6
    )
    return restored


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
