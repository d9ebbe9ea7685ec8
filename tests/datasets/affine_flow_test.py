"""`affine_flow_pairs`: frame pairs whose flow is exact for the motion
applied, the same for the same seed."""

import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.datasets import affine_flow_pairs
from keras_perceiver.datasets.affine_flow import bilinear

pytestmark = pytest.mark.backend_independent

HEIGHT, WIDTH = 12, 16


def linear_images(count):
    """Images whose values are linear in (x, y): bilinear interpolation
    reads them exactly anywhere inside."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    slopes = np.arange(1, count + 1)[:, None, None]
    return (0.01 * slopes * columns + 0.02 * rows + 0.1)[..., None]


def affine_from_flow(flow):
    """The affine motion `A(p) = M p + b` of a flow field `A(p) - p`."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    points = np.stack([columns, rows, np.ones_like(rows)], -1).reshape(-1, 3)
    moved = points[:, :2] + flow.reshape(-1, 2)
    solution, *_ = np.linalg.lstsq(points, moved, rcond=None)
    np.testing.assert_allclose(points @ solution, moved, atol=1e-4)
    return solution[:2].T, solution[2]


def test_the_flow_is_the_motion_that_made_the_second_frame():
    images = linear_images(3)
    frames, flow = affine_flow_pairs(images, num_pairs=6, seed=3)
    assert frames.shape == (6, 2, HEIGHT, WIDTH, 1)
    assert flow.shape == (6, HEIGHT, WIDTH, 2)
    assert frames.dtype == flow.dtype == np.float32
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    pixels = np.stack([columns, rows], -1).astype("float64")
    for first, second, field in zip(frames[:, 0], frames[:, 1], flow):
        matrix, shift = affine_from_flow(field)
        # The second frame at q is the first at A^-1(q).
        sources = (pixels - shift) @ np.linalg.inv(matrix).T
        inside = np.all((sources >= 0) & (sources <= [WIDTH - 1, HEIGHT - 1]),
                        axis=-1)
        assert inside.mean() > 0.5
        expected = bilinear(first, sources)
        np.testing.assert_allclose(second[inside], expected[inside],
                                   atol=1e-5)
        # Linear images: the first frame's own formula, read at A^-1(q).
        slope = (first[0, 1, 0] - first[0, 0, 0])
        formula = (slope * sources[..., 0] + 0.02 * sources[..., 1] + 0.1)
        np.testing.assert_allclose(second[inside, 0], formula[inside],
                                   atol=1e-5)


def test_the_motions_stay_within_the_ranges():
    images = linear_images(2)
    _, flow = affine_flow_pairs(images, num_pairs=20, seed=0,
                                max_translation=1.0, max_rotation=0.0,
                                max_scale=0.0)
    # Translations only: one shift per pair, at most 1 pixel per axis.
    first_pixel = np.broadcast_to(flow[:, :1, :1], flow.shape)
    np.testing.assert_allclose(flow, first_pixel, atol=1e-5)
    assert np.abs(flow).max() <= 1.0


def test_the_same_seed_gives_the_same_pairs():
    images = (linear_images(4) * 255).astype(np.uint8)
    first = affine_flow_pairs(images, num_pairs=3, seed=7)
    again = affine_flow_pairs(images, num_pairs=3, seed=7)
    other = affine_flow_pairs(images, num_pairs=3, seed=8)
    for array, same, different in zip(first, again, other):
        np.testing.assert_array_equal(array, same)
        assert not np.array_equal(array, different)
    assert first[0].max() <= 1.0  # uint8 images are read as [0, 1]


@pytest.mark.parametrize(
    "images, kwargs, fragment",
    [
        (np.zeros((0, 8, 8)), {}, "non-empty"),
        (np.zeros((2, 8)), {}, "(n, H, W)"),
        (np.zeros((2, 8, 8), "int32"), {}, "uint8 or float"),
        (np.zeros((2, 8, 8)), {"num_pairs": 0}, "num_pairs"),
        (np.zeros((2, 8, 8)), {"max_translation": -1}, "max_translation"),
        (np.zeros((2, 8, 8)), {"max_rotation": float("nan")}, "max_rotation"),
        (np.zeros((2, 8, 8)), {"max_scale": 1.5}, "max_scale"),
    ],
)
def test_bad_arguments(images, kwargs, fragment):
    arguments = {"num_pairs": 2, **kwargs}
    assert_value_error(lambda: affine_flow_pairs(images, **arguments),
                       fragment)
