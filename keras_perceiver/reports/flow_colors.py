"""Flow fields as pictures, in the Middlebury colour coding."""

import numpy as np

# The Middlebury colour wheel (Baker et al., 2011): how many hues lie
# between each pair of its six primary and secondary colours.
WHEEL_SEGMENTS = (
    ((255, 0, 0), (255, 255, 0), 15),  # red to yellow
    ((255, 255, 0), (0, 255, 0), 6),  # yellow to green
    ((0, 255, 0), (0, 255, 255), 4),  # green to cyan
    ((0, 255, 255), (0, 0, 255), 11),  # cyan to blue
    ((0, 0, 255), (255, 0, 255), 13),  # blue to magenta
    ((255, 0, 255), (255, 0, 0), 6),  # magenta to red
)


def color_wheel():
    """The 55 hues of the Middlebury wheel, `(55, 3)` floats in [0, 255]."""
    hues = []
    for start, end, steps in WHEEL_SEGMENTS:
        fractions = np.arange(steps)[:, None] / steps
        hues.append(np.array(start) + fractions * (np.subtract(end, start)))
    return np.concatenate(hues)


def flow_to_rgb(flow, max_magnitude=None):
    """A flow field as an RGB picture, in the Middlebury colour coding.

    The direction of each pixel's displacement gives its hue (right red,
    down yellow, left cyan, up blue-violet), its length the
    saturation: white for no motion, the full colour at `max_magnitude`.

    Args:
        flow: array `(H, W, 2)`: horizontal then vertical displacement, in
            pixels (what `PerceiverOpticalFlow` predicts).
        max_magnitude: float or None. The length shown in full colour.
            Defaults to None: the field's largest.

    Returns:
        A uint8 array `(H, W, 3)`.

    Example:

    >>> flow = np.zeros((2, 2, 2))
    >>> flow[0, 0] = (1.0, 0.0)  # one pixel moves right
    >>> flow_to_rgb(flow)[..., 0]
    array([[255, 255],
           [255, 255]], dtype=uint8)
    """
    flow = np.asarray(flow, dtype="float64")
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(
            "`flow` must have shape (height, width, 2). "
            f"Received: flow.shape={flow.shape}"
        )
    flow = np.nan_to_num(flow)
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    if max_magnitude is None:
        max_magnitude = magnitude.max()
    saturation = np.clip(magnitude / max(float(max_magnitude), 1e-9), 0, 1)
    wheel = color_wheel()
    # Angle 0 (right) is red, going round through yellow (down).
    position = (np.arctan2(-flow[..., 1], -flow[..., 0]) / np.pi + 1) / 2
    position = position * (len(wheel) - 1)
    lower = np.floor(position).astype(int)
    upper = (lower + 1) % len(wheel)
    weight = (position - lower)[..., None]
    hue = (1 - weight) * wheel[lower] + weight * wheel[upper]
    colors = 255 - saturation[..., None] * (255 - hue)
    return np.round(colors).astype(np.uint8)


def save_flow_image(flow, path, max_magnitude=None):
    """Writes `flow_to_rgb(flow)` to an image file (PNG for `.png`).

    Args:
        flow: array `(H, W, 2)`, in pixels.
        path: str or path. The file to write.
        max_magnitude: float or None. As for `flow_to_rgb`.

    Example:

    >>> save_flow_image(model(frames)[0], "flow.png")
    """
    from PIL import Image

    Image.fromarray(flow_to_rgb(flow, max_magnitude)).save(path)
