"""Videos: frames x height x width x channels, from TFDS data sets.

Videos come from TFDS `Video` features (there are no video files to
read): frames resized and scaled as images are, cut or padded to a number
of frames (whole time patches) and masked over frames. The adapter is a
`VideoAdapter` over the paper's patches of 2 frames x 8 x 8 pixels;
attention is drawn over the patch grids of a few frames side by side.
"""

import numpy as np

from keras_perceiver import adapters
from keras_perceiver.modalities import attention_drawing, inputs
from keras_perceiver.modalities.image import IMAGE, prepare_image
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

# Time patches a video's panels show, side by side.
VIDEO_STRIP_LENGTH = 4


def prepare_video(frames, preprocessing):
    """Frames resized and scaled like images, cut or padded to
    `max_length` frames and masked over frames (TensorFlow ops).

    Args:
        frames: integer tensor `(frames, height, width, channels)`.
        preprocessing: dict with "image_size", "channels" and
            "max_length".

    Returns:
        `{"inputs": (max_length, *image_size, channels), "mask":
        (max_length,)}`.

    Example:

    >>> prepare_video(frames, {"image_size": [32, 32], "channels": 3,
    ...                        "max_length": 16})
    """
    return inputs.cut_or_padded(prepare_image(frames, preprocessing),
                                preprocessing["max_length"])


def _preprocessing(facts, image_size=None, max_length=None, **_):
    """Videos (facts `(num_frames, height, width, mode)`): frames as images
    are, cut or padded to `max_length` frames (default: the longest)
    rounded up to whole time patches."""
    frames = IMAGE.preprocessing(
        [(height, width, mode) for _, height, width, mode in facts],
        image_size=image_size,
    )
    length = inputs.chosen_length(
        max_length, [num_frames for num_frames, *_ in facts],
        adapters.VideoAdapter.default_patch_size[0],
    )
    return {**frames, "modality": "video", "max_length": length}


def video_drawer(example, adapter, num_elements):
    """Videos as a strip of up to `VIDEO_STRIP_LENGTH` frames, and
    attention over the patch grid of the same frames beside each other.

    Each frame shown is the first of a time patch, spread evenly over the
    video; its attention panel is the (rows x columns) patch grid of that
    time patch. Without a 3-D grid of elements, the panels are
    `signal_drawer`'s. Arguments and result as
    `keras_perceiver.modalities.attention_drawing` describes.

    Example:

    >>> projection, draw = video_drawer(
    ...     {"inputs": videos[:1], "mask": mask[:1]}, model.input_adapter,
    ...     num_elements=64)
    """
    grid = attention_drawing.element_grid(adapter, num_elements, num_axes=3)
    if grid is None:
        return attention_drawing.signal_drawer(example, adapter, num_elements)
    frames = np.asarray(attention_drawing.first_input(example)[0])
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


VIDEO = register(Modality(
    name="video",
    plural="videos",
    # Patches of 2 frames x 8 x 8 pixels, as in the paper.
    adapter_factory=adapters.VideoAdapter,
    adapter_options=("patch_size",),
    attention_drawer=video_drawer,
    preprocessing=_preprocessing,
    prepare=prepare_video,
))
