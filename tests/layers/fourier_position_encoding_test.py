import math

import numpy as np
import pytest

from keras_perceiver.adapters import PointCloudAdapter
from keras_perceiver.layers import FourierPositionEncoding
from keras_perceiver.layers.fourier_position_encoding import (grid_positions,
                                                             linspace)
from bad_input import assert_value_error
from layer_harness import run_layer_test
from support import to_numpy


def reference_features(positions, max_resolution, num_bands, concat_pos=True,
                       sine_only=False):
    """The paper's formula, written out in NumPy."""
    positions = np.asarray(positions, np.float64)
    sines, cosines = [], []
    for dim, mu in enumerate(max_resolution):
        for frequency in np.linspace(1.0, mu / 2.0, num_bands):
            sines.append(np.sin(math.pi * frequency * positions[:, dim]))
            cosines.append(np.cos(math.pi * frequency * positions[:, dim]))
    columns = sines if sine_only else sines + cosines
    features = np.stack(columns, axis=-1)
    if concat_pos:
        features = np.concatenate([positions, features], axis=-1)
    return features


def reference_grid(index_shape):
    axes = [np.linspace(-1.0, 1.0, size) for size in index_shape]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack(mesh, axis=-1).reshape(-1, len(index_shape))


def test_grid_features_match_formula():
    encoding = FourierPositionEncoding(num_bands=6, max_resolution=(9, 12))
    features = to_numpy(encoding.grid_features((9, 12)))
    expected = reference_features(reference_grid((9, 12)), (9, 12), 6)
    assert features.shape == (108, 2 * (2 * 6 + 1))
    np.testing.assert_allclose(features, expected, atol=2e-5)


def test_grid_defaults_max_resolution_to_index_shape():
    encoding = FourierPositionEncoding(num_bands=5)
    features = to_numpy(encoding.grid_features((4, 7, 3)))
    expected = reference_features(reference_grid((4, 7, 3)), (4, 7, 3), 5)
    np.testing.assert_allclose(features, expected, atol=2e-5)


def test_frequencies_are_linear_up_to_nyquist():
    # With one axis and concat_pos=False, the sine of position 0.5 for band k
    # is sin(pi * f_k / 2); recover f_k and check the linear spacing.
    encoding = FourierPositionEncoding(
        num_bands=4, max_resolution=224, concat_pos=False, sine_only=True
    )
    positions = np.full((1, 1), 1.0 / 224.0, np.float32)
    features = to_numpy(encoding(positions))[0]
    frequencies = np.arcsin(features) * 224.0 / math.pi
    np.testing.assert_allclose(
        frequencies, np.linspace(1.0, 112.0, 4), rtol=1e-4
    )


@pytest.mark.parametrize("concat_pos", [True, False])
@pytest.mark.parametrize("sine_only", [True, False])
def test_coordinates_match_formula(concat_pos, sine_only):
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, size=(50, 3)).astype("float32")
    encoding = FourierPositionEncoding(
        num_bands=8, max_resolution=1120, concat_pos=concat_pos,
        sine_only=sine_only,
    )
    features = to_numpy(encoding(points))
    expected = reference_features(
        points, (1120,) * 3, 8, concat_pos=concat_pos, sine_only=sine_only
    )
    assert features.shape == (50, encoding.num_channels(3))
    np.testing.assert_allclose(features, expected, atol=5e-4)


def test_batched_coordinates_keep_leading_axes():
    encoding = FourierPositionEncoding(num_bands=3, max_resolution=10)
    features = encoding(np.zeros((2, 5, 2), "float32"))
    assert tuple(features.shape) == (2, 5, 14)
    assert encoding.compute_output_shape((2, 5, 2)) == (2, 5, 14)


def test_imagenet_channel_count():
    encoding = FourierPositionEncoding(num_bands=64, max_resolution=224)
    assert encoding.num_channels(2) == 258


def test_layer_checks(tmp_path):
    points = np.random.default_rng(0).uniform(-1, 1, size=(2, 5, 2))
    run_layer_test(
        FourierPositionEncoding, dict(num_bands=3, max_resolution=10),
        (points.astype("float32"),), tmp_path,
        config_kwargs=dict(num_bands=3, max_resolution=(4, 5),
                           concat_pos=False, sine_only=True),
        expected_output_shape=(2, 5, 14), trainable=False,
    )


def test_wrong_number_of_resolutions_raises():
    encoding = FourierPositionEncoding(num_bands=3, max_resolution=(4, 5))
    with pytest.raises(ValueError, match="max_resolution"):
        encoding.grid_features((4, 5, 6))
    with pytest.raises(ValueError, match="max_resolution"):
        encoding(np.zeros((3, 3), "float32"))


def test_coordinates_need_max_resolution():
    with pytest.raises(ValueError, match="max_resolution"):
        FourierPositionEncoding(num_bands=3)(np.zeros((3, 2), "float32"))


@pytest.mark.parametrize("num_bands", [0, -2, 2.5])
def test_non_positive_bands_raise(num_bands):
    with pytest.raises(ValueError, match="num_bands"):
        FourierPositionEncoding(num_bands=num_bands)


@pytest.mark.backend_independent
@pytest.mark.parametrize("make, setting", [
    (lambda: FourierPositionEncoding(concat_pos=1), "concat_pos"),
    (lambda: FourierPositionEncoding(sine_only="no"), "sine_only"),
    # Its owners take the encoding's check (it accepted any value before).
    (lambda: PointCloudAdapter(sine_only=0), "sine_only"),
], ids=["encoding-concat_pos", "encoding-sine_only", "adapter-sine_only"])
def test_non_bool_settings_raise(make, setting):
    assert_value_error(make, f"`{setting}` must be True or False")


def test_non_positive_resolution_raises():
    encoding = FourierPositionEncoding(num_bands=3, max_resolution=(4, 0))
    with pytest.raises(ValueError, match="max_resolution"):
        encoding.grid_features((4, 4))


@pytest.mark.backend_independent
@pytest.mark.parametrize("start, stop", [(-1.0, 1.0), (1.0, 112.0),
                                         (1.0, 0.5), (1.0, 1.0)])
def test_linspace_equals_numpy_bit_for_bit(start, stop):
    # The grid positions and frequencies are built from it: any difference
    # from NumPy would move the features off the checked values.
    for num in [*range(1, 1100), 50176]:
        np.testing.assert_array_equal(
            np.array(linspace(start, stop, num)),
            np.linspace(start, stop, num), err_msg=f"num={num}")


def test_grid_positions_equal_numpy_in_float32():
    positions = to_numpy(grid_positions((99, 197, 1)))
    expected = reference_grid((99, 197, 1)).astype(np.float32)
    np.testing.assert_array_equal(positions, expected)
