"""What every modality's attention drawer shares.

`keras_perceiver.reports.plotting.plot_attention_maps` shows an example
beside the attention of some latents over it; what a panel looks like
depends on the modality, whose `Modality.attention_drawer` draws it. Each
drawer takes `(example, adapter, num_elements)`: one example as the model
takes it (batch of 1), the model's input adapter (None without one) and the
number of byte-array elements the attention covers, and returns
`(projection, draw)`: the matplotlib projection of the panels (None, or
"3d") and `draw(axis, attention)`, which draws the example when `attention`
is None and otherwise one latent's attention, an array of `num_elements`.
Drawers use NumPy and the axes they are given, never matplotlib itself.
"""

import numpy as np

from keras_perceiver.adapters.input_adapter import InputAdapter


def signal_drawer(example, adapter, num_elements):
    """Any input as a line: the example's first input along its first
    axis (other axes averaged), and attention over the element index.
    Arguments and result as the module describes.

    Example:

    >>> projection, draw = signal_drawer(waveforms[:1], None, 375)
    """
    signal = np.asarray(first_input(example)[0], dtype="float32")
    signal = signal.reshape(signal.shape[0], -1).mean(axis=-1)

    def draw(axis, attention):
        axis.plot(signal if attention is None else attention)

    return None, draw


def element_grid(adapter, num_elements, num_axes=2):
    """The adapter's grid of `num_elements` elements along `num_axes` axes.

    Args:
        adapter: the model's input adapter, or None.
        num_elements: int. Elements the attention covers.
        num_axes: int. Axes the grid must have. Defaults to 2.

    Returns:
        The grid, a tuple of ints, or None when the adapter has no such
        grid (a drawer then falls back on `signal_drawer`).

    Example:

    >>> element_grid(image_adapter, num_elements=784)
    (28, 28)
    """
    if not isinstance(adapter, InputAdapter):
        return None
    grid = adapter.element_grid
    if (grid is None or len(grid) != num_axes
            or np.prod(grid) != num_elements):
        return None
    return grid


def first_input(example):
    """The example's first input: its "inputs" (or first entry) while it
    is a dict.

    Example:

    >>> first_input({"inputs": frames, "mask": mask}) is frames
    True
    """
    while isinstance(example, dict):
        example = next(iter(example.values()))
    return example
