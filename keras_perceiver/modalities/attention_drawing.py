"""How each modality draws one example and its attention maps.

`keras_perceiver.reports.plotting.plot_attention_maps` shows an example beside the
attention of some latents over it; what a panel looks like depends on the
modality, which names its drawer in `keras_perceiver.modalities`. Each
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

# Time patches a video's panels show, side by side.
VIDEO_STRIP_LENGTH = 4


def image_drawer(example, adapter, num_elements):
    """Images, and attention over the pixel (or patch) grid.

    The image is the central crop when the adapter crops, since the
    attention covers that crop. Without a 2-D grid of elements (e.g. an
    adapter of its own), the panels are `signal_drawer`'s. Arguments and
    result as the module describes.

    Example:

    >>> projection, draw = image_drawer(images[:1], model.input_adapter,
    ...                                 num_elements=784)
    >>> draw(axis, None)  # the image
    """
    grid = _element_grid(adapter, num_elements)
    if grid is None:
        return signal_drawer(example, adapter, num_elements)
    image = np.squeeze(_central_crop(np.asarray(example[0]),
                                     adapter.inference_crop_shape))

    def draw(axis, attention):
        if attention is None:
            axis.imshow(image, cmap="gray")
        else:
            axis.imshow(attention.reshape(grid), cmap="viridis")

    return None, draw


def spectrogram_drawer(example, adapter, num_elements):
    """Spectrograms and attention over their patches: time left to right,
    frequency upwards (channels averaged). Without a 2-D grid of elements,
    the panels are `signal_drawer`'s. Arguments and result as the module
    describes.

    Example:

    >>> projection, draw = spectrogram_drawer(
    ...     {"inputs": spectrograms[:1], "mask": mask[:1]},
    ...     model.input_adapter, num_elements=32)
    """
    grid = _element_grid(adapter, num_elements)
    if grid is None:
        return signal_drawer(example, adapter, num_elements)
    spectrogram = np.asarray(example["inputs"][0])
    if spectrogram.ndim == 3:  # channels (e.g. log-mel and deltas)
        spectrogram = spectrogram.mean(axis=-1)

    def draw(axis, attention):
        picture = spectrogram if attention is None else (
            attention.reshape(grid))
        axis.imshow(picture.T, origin="lower", aspect="auto",
                    cmap="magma" if attention is None else "viridis")

    return None, draw


def video_drawer(example, adapter, num_elements):
    """Videos as a strip of up to `VIDEO_STRIP_LENGTH` frames, and
    attention over the patch grid of the same frames beside each other.

    Each frame shown is the first of a time patch, spread evenly over the
    video; its attention panel is the (rows x columns) patch grid of that
    time patch. Without a 3-D grid of elements, the panels are
    `signal_drawer`'s. Arguments and result as the module describes.

    Example:

    >>> projection, draw = video_drawer(
    ...     {"inputs": videos[:1], "mask": mask[:1]}, model.input_adapter,
    ...     num_elements=64)
    """
    grid = _element_grid(adapter, num_elements, num_axes=3)
    if grid is None:
        return signal_drawer(example, adapter, num_elements)
    frames = np.asarray(_first_input(example)[0])
    time_patches = np.linspace(0, grid[0] - 1,
                               min(VIDEO_STRIP_LENGTH, grid[0])).astype(int)
    frames_per_patch = frames.shape[0] // grid[0]
    strip = np.squeeze(np.concatenate(
        list(frames[time_patches * frames_per_patch]), axis=1))

    def draw(axis, attention):
        if attention is None:
            axis.imshow(strip, cmap="gray")
        else:
            patches = attention.reshape(grid)[time_patches]
            axis.imshow(np.concatenate(list(patches), axis=1),
                        cmap="viridis")

    return None, draw


def point_cloud_drawer(example, adapter, num_elements):
    """Point clouds in 3-D, coloured by height or by attention.

    The adapter keeps a cloud's first `num_elements` points at inference,
    so those are drawn. Arguments and result as the module describes.

    Example:

    >>> projection, draw = point_cloud_drawer(points[:1],
    ...                                       model.input_adapter, 1024)
    >>> projection
    '3d'
    """
    x, y, z = np.asarray(example[0, :num_elements, :3]).T

    def draw(axis, attention):
        colours = z if attention is None else attention
        cmap = "gray" if attention is None else "viridis"
        axis.scatter(x, y, z, c=colours, cmap=cmap, s=2)

    return "3d", draw


def signal_drawer(example, adapter, num_elements):
    """Any input as a line: the example's first input along its first
    axis (other axes averaged), and attention over the element index.
    Arguments and result as the module describes.

    Example:

    >>> projection, draw = signal_drawer(waveforms[:1], None, 375)
    """
    signal = _flat_signal(example)

    def draw(axis, attention):
        axis.plot(signal if attention is None else attention)

    return None, draw


def _element_grid(adapter, num_elements, num_axes=2):
    """The adapter's grid of `num_elements` elements along `num_axes`
    axes, or None."""
    if not isinstance(adapter, InputAdapter):
        return None
    grid = adapter.element_grid
    if (grid is None or len(grid) != num_axes
            or np.prod(grid) != num_elements):
        return None
    return grid


def _central_crop(image, crop_shape):
    if crop_shape is None:
        return image
    top = (image.shape[0] - crop_shape[0]) // 2
    left = (image.shape[1] - crop_shape[1]) // 2
    return image[top:top + crop_shape[0], left:left + crop_shape[1]]


def _first_input(example):
    """The example's first input: its "inputs" (or first entry) while it
    is a dict."""
    while isinstance(example, dict):
        example = next(iter(example.values()))
    return example


def _flat_signal(example):
    signal = np.asarray(_first_input(example)[0], dtype="float32")
    return signal.reshape(signal.shape[0], -1).mean(axis=-1)
