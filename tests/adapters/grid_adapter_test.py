"""A GridAdapter subclass of a few class attributes is a full adapter.

`GridAdapter`'s patching, positions and masks are checked through each
grid adapter's own test file; here the base class's contract: the
smallest subclass (the docstring's `VolumeAdapter`) passes the harness.
"""

import keras
import numpy as np

from keras_perceiver.adapters import GridAdapter
from layer_harness import run_adapter_test


@keras.saving.register_keras_serializable(package="keras_perceiver_tests")
class VolumeAdapter(GridAdapter):
    """3-D scans `(batch, depth, height, width, channels)`."""

    axis_names = ("depth", "height", "width")
    input_name = "volumes"


def test_layer_checks(tmp_path):
    volumes = np.random.default_rng(0).normal(size=(2, 4, 4, 4, 1))
    mask = np.arange(4)[None].repeat(2, 0) < [[4], [2]]
    run_adapter_test(
        VolumeAdapter, dict(patch_size=(1, 2, 2), num_bands=2),
        {"inputs": volumes.astype("float32"), "mask": mask}, tmp_path,
        config_kwargs=dict(patch_size=2, num_bands=3, sine_only=True),
        # 1 x 2 x 2 values and 3 x (2 x 2 + 1) position channels.
        expected_output_shape=((2, 16, 4 + 15), (2, 16)),
    )
