"""Optical-flow pairs with exact ground truth, made by known affine motions.

Real flow data with ground truth is large (Sintel, KITTI, FlyingChairs);
this generator makes training and test pairs from any still images (MNIST
digits, CIFAR-10 photos) by moving each image with a random affine motion
whose flow is known exactly.
"""

import numpy as np

from keras_perceiver import argument_checks


def affine_flow_pairs(images, num_pairs, seed=0, max_translation=2.0,
                      max_rotation=10.0, max_scale=0.1):
    """Frame pairs and their exact flow, from still images moved by known
    random affine motions.

    For each pair an image is drawn and a motion about its centre
    `c = ((W - 1) / 2, (H - 1) / 2)`: a rotation by an angle uniform in
    `[-max_rotation, max_rotation]` degrees, a scaling by a factor uniform
    in `[1 - max_scale, 1 + max_scale]` and a translation uniform in
    `[-max_translation, max_translation]` pixels along each axis,
    `A(p) = s R (p - c) + c + t` for a pixel `p = (x, y)`. The first frame
    is the image; the second is the image moved by `A`: its value at `q`
    is the first frame's at `A^-1(q)`, read by bilinear interpolation
    (zero outside the image). The point of the first frame at pixel `p`
    is then at `A(p)` in the second frame, so the flow `A(p) - p` is exact
    for the frames made, to float32 rounding.

    The same `images`, `num_pairs`, `seed` and ranges always give the same
    pairs.

    Args:
        images: array `(n, H, W)` or `(n, H, W, C)`: uint8 (read as
            [0, 1]) or float.
        num_pairs: int. Pairs to make; images are drawn with replacement.
        seed: int. Seed of the draws. Defaults to 0.
        max_translation: float. Largest shift along each axis, in pixels.
            Defaults to 2.
        max_rotation: float. Largest rotation, in degrees. Defaults to 10.
        max_scale: float in [0, 1). Largest relative change of scale.
            Defaults to 0.1.

    Returns:
        A tuple `(frames, flow)`: float32 frames `(num_pairs, 2, H, W, C)`
        in the images' scale (uint8 images become [0, 1]), and the float32
        flow `(num_pairs, H, W, 2)` in pixels, horizontal (x, to the right)
        first, then vertical (y, downwards): what
        `keras_perceiver.PerceiverOpticalFlow` predicts.

    Example:

    >>> digits = keras_perceiver.datasets.load_mnist(
    ...     "../shared/data/mnist").x_test
    >>> frames, flow = affine_flow_pairs(digits, num_pairs=8, seed=0)
    >>> frames.shape, flow.shape
    ((8, 2, 28, 28, 1), (8, 28, 28, 2))
    """
    images = _as_float_images(images)
    num_pairs = argument_checks.check_positive_int("num_pairs", num_pairs)
    for name, value in (("max_translation", max_translation),
                        ("max_rotation", max_rotation)):
        if isinstance(value, bool) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ) or not 0 <= value < float("inf"):
            raise ValueError(
                f"`{name}` must be a number >= 0. Received: {name}={value!r}"
            )
    max_scale = argument_checks.check_fraction("max_scale", max_scale)
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, len(images), size=num_pairs)
    angles = np.deg2rad(rng.uniform(-max_rotation, max_rotation, num_pairs))
    scales = rng.uniform(1 - max_scale, 1 + max_scale, num_pairs)
    shifts = rng.uniform(-max_translation, max_translation, (num_pairs, 2))
    height, width = images.shape[1:3]
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    rows, columns = np.mgrid[0:height, 0:width]
    pixels = np.stack([columns, rows], axis=-1).astype("float64")
    frames = np.empty((num_pairs, 2) + images.shape[1:], "float32")
    flow = np.empty((num_pairs, height, width, 2), "float32")
    for index in range(num_pairs):
        matrix = scales[index] * _rotation(angles[index])
        shift = centre + shifts[index] - matrix @ centre
        image = images[chosen[index]]
        moved = pixels @ matrix.T + shift
        flow[index] = moved - pixels
        # The second frame at q is the first at A^-1(q) = M^-1 (q - shift).
        sources = (pixels - shift) @ np.linalg.inv(matrix).T
        frames[index, 0] = image
        frames[index, 1] = bilinear(image, sources)
    return frames, flow


def _as_float_images(images):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0 or min(images.shape[1:3]) < 2:
        raise ValueError(
            "`images` must be a non-empty array (n, H, W) or (n, H, W, C) "
            "of images at least 2 x 2. "
            f"Received: images of shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "`images` must be uint8 or float. "
            f"Received: images of dtype {images.dtype}"
        )
    return images.astype("float32")


def _rotation(angle):
    cosine, sine = np.cos(angle), np.sin(angle)
    return np.array([[cosine, -sine], [sine, cosine]])


def bilinear(image, points):
    """`image` read at real-valued `(x, y)` points, bilinearly, zero
    outside.

    Args:
        image: array `(H, W, C)`.
        points: array `(..., 2)` of `(x, y)` coordinates in pixels.

    Returns:
        A float32 array `(..., C)`.

    Example:

    >>> image = np.arange(4.0).reshape(2, 2, 1)
    >>> bilinear(image, np.array([[0.5, 0.5]]))
    array([[1.5]], dtype=float32)
    """
    height, width = image.shape[:2]
    padded = np.pad(image, [(1, 1), (1, 1), (0, 0)])
    # Beyond one pixel outside, every neighbour is padding (zero).
    x = np.clip(points[..., 0], -1.0, width) + 1.0
    y = np.clip(points[..., 1], -1.0, height) + 1.0
    left = np.minimum(np.floor(x).astype(int), width)
    top = np.minimum(np.floor(y).astype(int), height)
    fx = (x - left)[..., None]
    fy = (y - top)[..., None]
    value = (
        padded[top, left] * (1 - fx) * (1 - fy)
        + padded[top, left + 1] * fx * (1 - fy)
        + padded[top + 1, left] * (1 - fx) * fy
        + padded[top + 1, left + 1] * fx * fy
    )
    return value.astype("float32")
