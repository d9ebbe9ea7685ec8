"""Frame pairs as a flow checkpoint takes them."""

import numpy as np

from keras_perceiver.preprocessing.image_preprocessor import load_image

NUM_FRAMES = 2


def load_flow_frames(images):
    """Two frames as the input of an optical-flow checkpoint.

    DeepMind's flow model reads RGB frames scaled to [-1, 1]; the flow it
    gives moves the first frame's pixels onto the second's.

    Args:
        images: a sequence of two images, first then second: file paths,
            PIL images or uint8 arrays, of one size.

    Returns:
        A float32 array `(1, 2, H, W, 3)` in [-1, 1], what
        `keras_perceiver.PerceiverOpticalFlow` from `load_checkpoint`
        takes.

    Example:

    >>> frames = load_flow_frames(["frame_0.png", "frame_1.png"])
    >>> model = load_checkpoint("deepmind/optical-flow-perceiver",
    ...                         image_size=frames.shape[2:4])
    >>> flow = model.predict(frames)[0]  # (H, W, 2), in pixels
    """
    images = list(images)
    if len(images) != NUM_FRAMES:
        raise ValueError(
            "Optical flow takes two frames, the first then the second. "
            f"Received: {len(images)} image{'s' * (len(images) != 1)}"
        )
    frames = [load_image(image) for image in images]
    sizes = [frame.shape[:2] for frame in frames]
    if sizes[0] != sizes[1]:
        raise ValueError(
            "The two frames must have the same size. Received: frames of "
            f"{sizes[0][0]} x {sizes[0][1]} and {sizes[1][0]} x "
            f"{sizes[1][1]} pixels (height x width)"
        )
    frames = np.stack(frames)[None].astype("float32")
    return frames / 127.5 - 1.0
