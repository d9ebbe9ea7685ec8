"""Images: the paper's pixel grids, read from image files.

Image files (.png, .jpg, .jpeg, .bmp, .gif) are checked with Pillow and
read with TensorFlow, resized to one size and scaled to [0, 1], grey when
all the files are grey and RGB otherwise. The adapter is an
`ImageAdapter` (each pixel an element, or patches and crops as asked);
attention is drawn over its pixel (or patch) grid.
"""

import collections
import warnings

import numpy as np

from keras_perceiver import adapters, argument_checks
from keras_perceiver.modalities import attention_drawing
from keras_perceiver.modalities.modality import Modality
from keras_perceiver.modalities.registry import register

GREY_IMAGE_MODES = ("1", "L", "I", "I;16", "F")


def load_image_file(path):
    """The image of a file, decoded whole with Pillow.

    Decoding it whole finds a file cut short after a valid header; images
    with more pixels than Pillow's decompression-bomb limit
    (`PIL.Image.MAX_IMAGE_PIXELS`) are refused before their pixels are
    allocated.

    Args:
        path: str or path. The image file.

    Returns:
        A loaded `PIL.Image.Image`.

    Raises:
        ValueError: naming the file, if it is not a readable image or is
            larger than the limit.

    Example:

    >>> load_image_file("cat.png").size
    (32, 32)
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                image.load()
                return image
        except (Image.DecompressionBombError,
                Image.DecompressionBombWarning) as error:
            raise ValueError(
                f"{path} is too large to read safely ({error}); make it "
                "smaller or leave it out."
            ) from None
        # Pillow's decoders raise many kinds of error on damaged files.
        except Exception as error:
            raise ValueError(
                f"{path} is not a readable image; it could not be read "
                f"({type(error).__name__}: {error})."
            ) from None


def prepare_image(image, preprocessing):
    """Resizes a decoded image and scales it to [0, 1] (TensorFlow ops).

    Any number of channels becomes `preprocessing["channels"]`: grey to RGB
    by repetition, RGB to grey by luminance, alpha dropped.

    Args:
        image: integer tensor `(..., height, width, channels)`; it may have
            leading axes, e.g. video frames `(frames, height, width,
            channels)`.
        preprocessing: dict with "image_size" and "channels".

    Returns:
        float32 tensor `(..., *image_size, channels)`.

    Example:

    >>> prepare_image(pixels, {"image_size": [32, 32], "channels": 1})
    """
    import tensorflow as tf

    rgb = tf.cond(
        tf.shape(image)[-1] < 3,
        lambda: tf.image.grayscale_to_rgb(image[..., :1]),
        lambda: image[..., :3],
    )
    if preprocessing["channels"] == 1:
        rgb = tf.image.rgb_to_grayscale(rgb)
    resized = tf.image.resize(tf.cast(rgb, "float32"),
                              preprocessing["image_size"])
    return tf.ensure_shape(
        resized / 255.0,
        (*image.shape[:-3], *preprocessing["image_size"],
         preprocessing["channels"]),
    )


def _inspect(path):
    """Height, width and mode of an image that decodes whole, with Pillow
    and then with the decoder of training: a file cut short after a valid
    header is refused here, not in the middle of an epoch. Pillow decodes
    first, so that TensorFlow, which logs what it cannot decode, meets
    only files that decode."""
    import tensorflow as tf

    image = load_image_file(path)
    try:
        _decode(str(path))
    except tf.errors.OpError as error:
        raise ValueError(
            f"{path} is not a readable image ({type(error).__name__})."
        ) from None
    return image.height, image.width, image.mode


def _preprocessing(facts, image_size=None, **_):
    """Images (facts `(height, width, mode)`) resized to `image_size`
    (default: the most common size), grey when all are grey."""
    if image_size is None:
        sizes = collections.Counter((height, width) for height, width, _
                                    in facts)
        image_size = sizes.most_common(1)[0][0]
    elif isinstance(image_size, int):
        image_size = (image_size, image_size)
    height, width = (argument_checks.check_positive_int("image_size", side)
                     for side in image_size)
    grey = all(mode in GREY_IMAGE_MODES for *_, mode in facts)
    return {"modality": "image", "image_size": [height, width],
            "channels": 1 if grey else 3}


def _decode(path):
    """The image file's pixels, `(height, width, channels)` (TensorFlow)."""
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(path), channels=0,
                              expand_animations=False)


def _read(path, preprocessing):
    return prepare_image(_decode(path), preprocessing)


def image_drawer(example, adapter, num_elements):
    """Images, and attention over the pixel (or patch) grid.

    The image is the central crop when the adapter crops, since the
    attention covers that crop. Without a 2-D grid of elements (e.g. an
    adapter of its own), the panels are `signal_drawer`'s. Arguments and
    result as `keras_perceiver.modalities.attention_drawing` describes.

    Example:

    >>> projection, draw = image_drawer(images[:1], model.input_adapter,
    ...                                 num_elements=784)
    >>> draw(axis, None)  # the image
    """
    grid = attention_drawing.element_grid(adapter, num_elements)
    if grid is None:
        return attention_drawing.signal_drawer(example, adapter, num_elements)
    image = np.squeeze(_central_crop(np.asarray(example[0]),
                                     adapter.inference_crop_shape))

    def draw(axis, attention):
        if attention is None:
            axis.imshow(image, cmap="gray")
        else:
            axis.imshow(attention.reshape(grid), cmap="viridis")

    return None, draw


def _central_crop(image, crop_shape):
    if crop_shape is None:
        return image
    top = (image.shape[0] - crop_shape[0]) // 2
    left = (image.shape[1] - crop_shape[1]) // 2
    return image[top:top + crop_shape[0], left:left + crop_shape[1]]


IMAGE = register(Modality(
    name="image",
    plural="images",
    adapter_factory=adapters.ImageAdapter,
    adapter_options=("patch_size", "crop_size"),
    attention_drawer=image_drawer,
    extensions=(".png", ".jpg", ".jpeg", ".bmp", ".gif"),
    inspect=_inspect,
    preprocessing=_preprocessing,
    read=_read,
    prepare=prepare_image,
))
