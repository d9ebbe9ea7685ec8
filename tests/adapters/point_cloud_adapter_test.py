import keras
import numpy as np
import pytest

from keras_perceiver.adapters import PointCloudAdapter
from keras_perceiver.layers import FourierPositionEncoding
from layer_harness import run_adapter_test
from support import (
    adapter_outputs,
    adapter_perceiver,
    as_float32,
    assert_fit_runs,
    pad_along_first_axis,
    to_numpy,
)

rng = np.random.default_rng(0)
# xyz in [-1, 1] followed by two per-point features.
CLOUDS = [
    np.concatenate(
        [rng.uniform(-1, 1, size=(points, 3)), rng.normal(size=(points, 2))],
        axis=-1,
    ).astype("float32")
    for points in (12, 5)
]
PADDED, MASK = pad_along_first_axis(CLOUDS, 12, value=np.nan)


def test_features_then_fourier_features_of_the_coordinates():
    points = CLOUDS[0][None]
    byte_array, mask = adapter_outputs(
        PointCloudAdapter(num_bands=4, max_resolution=32), points
    )
    assert mask is None
    # 2 features + 3 * (2 * 4 + 1) coordinate features.
    assert byte_array.shape == (1, 12, 29)
    np.testing.assert_allclose(byte_array[..., :2], points[..., 3:])
    encoding = FourierPositionEncoding(num_bands=4, max_resolution=32)
    np.testing.assert_allclose(
        byte_array[..., 2:], to_numpy(encoding(points[..., :3])), atol=1e-6
    )


def test_paper_defaults_for_xyz_only():
    adapter = PointCloudAdapter()
    assert (adapter.num_bands, adapter.max_resolution) == (64, 1120)
    byte_array, _ = adapter_outputs(adapter, CLOUDS[1][None, :, :3])
    assert byte_array.shape == (1, 5, 3 * (2 * 64 + 1))


def test_shuffling_the_points_leaves_the_logits_unchanged():
    model = adapter_perceiver(PointCloudAdapter(num_bands=4))
    points = np.stack([CLOUDS[0], CLOUDS[0][::-1]])
    logits = to_numpy(model(points))
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(12)
        np.testing.assert_allclose(
            to_numpy(model(points[:, order])), logits, atol=1e-5
        )


@pytest.mark.parametrize("as_dict", [False, True])
def test_padded_and_masked_clouds_equal_the_unpadded_clouds(as_dict):
    model = adapter_perceiver(PointCloudAdapter(num_bands=4))
    if as_dict:
        result = model({"inputs": PADDED, "mask": MASK})
    else:
        result = model(PADDED, mask=MASK)
    expected = np.concatenate(
        [to_numpy(model(cloud[None])) for cloud in CLOUDS]
    )
    # NaN padding never reaches the output.
    np.testing.assert_allclose(to_numpy(result), expected, atol=1e-5)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((2, 12), "float32"), "rank"),
        (np.zeros((2, 12, 3, 1), "float32"), "rank"),
        (np.zeros((2, 12, 2), "float32"), "points"),
        ({"inputs": PADDED, "mask": MASK[:, :11]}, "mask"),
        ({"inputs": PADDED, "mask": MASK[:2, :, None]}, "mask"),
    ],
)
def test_bad_point_clouds_raise(inputs, match):
    with pytest.raises(ValueError, match=match):
        PointCloudAdapter(num_bands=4)(inputs)


def test_features_other_than_built_raise():
    adapter = PointCloudAdapter(num_bands=4)
    adapter(PADDED, mask=MASK)
    with pytest.raises(ValueError, match="points"):
        adapter(PADDED[..., :4], mask=MASK)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_resolution": (32, 32)}, "max_resolution"),
        ({"num_coordinates": 0}, "num_coordinates"),
        ({"num_bands": -1}, "num_bands"),
        ({"num_points": 0}, "num_points"),
        ({"scale_range": (1.2, 0.8)}, "scale_range"),
        ({"scale_range": 1.1}, "scale_range"),
        ({"jitter_stddev": -0.1}, "jitter_stddev"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PointCloudAdapter(**kwargs)


def test_layer_checks(tmp_path):
    # Trains on the NaN-padded clouds with their mask.
    run_adapter_test(
        PointCloudAdapter, {"num_bands": 4}, {"inputs": PADDED, "mask": MASK},
        tmp_path,
        config_kwargs=dict(num_bands=8, max_resolution=(64, 64, 32),
                           num_coordinates=3, sine_only=True, num_points=8,
                           scale_range=(0.8, 1.25), jitter_stddev=0.01,
                           seed=3),
        expected_output_shape=((2, 12, 2 + 27), (2, 12)),
    )


def _rows(array):
    return {tuple(row) for row in np.round(array, 5)}


def test_training_keeps_a_random_subset_of_the_real_points():
    adapter = PointCloudAdapter(num_bands=2, num_points=4, seed=0)
    points, mask = adapter_outputs(
        adapter, {"inputs": np.nan_to_num(PADDED), "mask": MASK},
        training=True,
    )
    assert points.shape[:2] == mask.shape == (2, 4)
    assert mask.all()
    reference, _ = adapter_outputs(
        PointCloudAdapter(num_bands=2), np.nan_to_num(PADDED)
    )
    for index, cloud in enumerate(CLOUDS):
        # Each kept element is one of the cloud's real points, with its
        # features and its own position features, and none is kept twice.
        real = _rows(reference[index, :len(cloud)])
        kept = _rows(points[index])
        assert len(kept) == 4 and kept <= real
    # Another call draws another subset.
    again, _ = adapter_outputs(
        adapter, {"inputs": np.nan_to_num(PADDED), "mask": MASK},
        training=True,
    )
    assert _rows(again[0]) != _rows(points[0])


def test_clouds_with_fewer_real_points_keep_them_all_and_stay_masked():
    adapter = PointCloudAdapter(num_bands=2, num_points=8, seed=0)
    _, mask = adapter_outputs(
        adapter, {"inputs": np.nan_to_num(PADDED), "mask": MASK},
        training=True,
    )
    # The second cloud has 5 real points: they come first, then padding.
    np.testing.assert_array_equal(mask.sum(axis=1), [8, 5])
    np.testing.assert_array_equal(mask[1], [True] * 5 + [False] * 3)


def test_inference_keeps_the_first_points_without_randomness():
    adapter = PointCloudAdapter(num_bands=2, num_points=4,
                                scale_range=(0.5, 2.0), jitter_stddev=0.1)
    points, _ = adapter_outputs(adapter, CLOUDS[0][None])
    expected, _ = adapter_outputs(
        PointCloudAdapter(num_bands=2), CLOUDS[0][None, :4]
    )
    np.testing.assert_allclose(points, expected)


def test_scaling_and_jitter_move_only_the_coordinates():
    cloud = CLOUDS[0][None]
    adapter = PointCloudAdapter(num_bands=2, concat_pos=True,
                                scale_range=(0.5, 0.6), seed=1)
    points, _ = adapter_outputs(adapter, cloud, training=True)
    np.testing.assert_allclose(points[..., :2], cloud[..., 3:])
    # The position features start with the raw coordinates.
    raw = points[..., 2:5]
    ratios = raw / cloud[..., :3]
    assert np.all((ratios > 0.5 - 1e-5) & (ratios < 0.6 + 1e-5))
    # One factor per cloud and axis.
    np.testing.assert_allclose(
        ratios, np.broadcast_to(ratios[:, :1], ratios.shape), rtol=1e-4
    )
    jittered, _ = adapter_outputs(
        PointCloudAdapter(num_bands=2, jitter_stddev=0.01, seed=1), cloud,
        training=True,
    )
    noise = jittered[..., 2:5] - cloud[..., :3]
    assert 0 < np.abs(noise).max() <= 0.02 + 1e-6


def test_training_with_augmentation():
    adapter = PointCloudAdapter(num_bands=4, num_points=6,
                                scale_range=(0.8, 1.25), jitter_stddev=0.01,
                                seed=0)
    model = adapter_perceiver(adapter)
    assert_fit_runs(
        model, {"inputs": np.nan_to_num(PADDED), "mask": MASK},
        np.array([0, 1]),
    )


def test_mixed_bfloat16_model_computes_positions_in_float32():
    points = CLOUDS[0][None]
    expected, _ = adapter_outputs(PointCloudAdapter(num_bands=4), points)
    rounded = as_float32(keras.ops.cast(expected, "bfloat16"))
    keras.config.set_dtype_policy("mixed_bfloat16")
    # The coordinates are not cast to bfloat16 before the adapter.
    model = adapter_perceiver(PointCloudAdapter(num_bands=4))
    logits = model(points)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    byte_array, _ = model.encoder.encode_inputs(points)
    np.testing.assert_array_equal(as_float32(byte_array), rounded)
