import os

import keras
import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.modalities.image import load_image_file
from keras_perceiver.preprocessing.preprocessor import (
    Preprocessor,
    items_list,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BICUBIC = 3  # PIL.Image.Resampling.BICUBIC
# Pillow's modes of 16-bit grey images ("I" for some PNGs and older
# Pillows), and the factor from their 0-65535 range down to 0-255.
WIDE_INTEGER_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
WIDE_INTEGER_SCALE = 65535 / 255


@keras.saving.register_keras_serializable(package="keras_perceiver")
class ImagePreprocessor(Preprocessor):
    """Turns image files into the input of a converted image checkpoint.

    The preprocessing of Hugging Face's `PerceiverImageProcessor` (its PIL
    backend), step for step, so that an image file gives the checkpoint's
    predictions: the image is converted to RGB; the central square of side
    `size / crop_size * min(height, width)` is cropped (224 / 256 of the
    shorter side, by default); the crop is resized to `size` with PIL's
    bicubic filter on the 8-bit pixels; the values are scaled by 1 / 255 and
    normalised with ImageNet's mean and standard deviation. The result is
    channels-last, `(batch, height, width, 3)` in float32, what the converted
    models take.

    `from_config` reads the settings of a checkpoint's
    `preprocessor_config.json`; the defaults are those of the published
    `deepmind/vision-perceiver-*` checkpoints. `load_checkpoint` gives an
    image classifier this preprocessor as `model.preprocessor`, and a
    `.keras` save of the model keeps it.

    Args:
        size: int or pair of ints. Height and width of the model's input.
            Defaults to 224.
        crop_size: int or pair of ints. The crop is `size / crop_size` of the
            shorter image side (per axis). Defaults to 256.
        image_mean: sequence of 3 floats. Mean subtracted per channel after
            scaling. Defaults to ImageNet's.
        image_std: sequence of 3 floats. Standard deviation divided per
            channel. Defaults to ImageNet's.
        resample: int. PIL resampling filter of the resize. Defaults to 3
            (bicubic).
        rescale_factor: float. Scale applied to the 8-bit values. Defaults
            to 1 / 255.
        do_center_crop: bool. Whether to crop. Defaults to True.
        do_resize: bool. Whether to resize. Defaults to True.
        do_rescale: bool. Whether to scale. Defaults to True.
        do_normalize: bool. Whether to normalise. Defaults to True.

    Call arguments:
        images: one image or a list of them; each a file path, a PIL image,
            or a uint8 NumPy array `(height, width[, channels])`.

    Returns:
        A float32 NumPy array `(batch, height, width, 3)`.

    Example:

    >>> preprocessor = ImagePreprocessor(size=32, crop_size=36)
    >>> image = np.zeros((48, 64, 3), "uint8")
    >>> preprocessor([image, image]).shape
    (2, 32, 32, 3)
    """

    modality = "image"

    def __init__(
        self,
        size=224,
        crop_size=256,
        image_mean=IMAGENET_MEAN,
        image_std=IMAGENET_STD,
        resample=BICUBIC,
        rescale_factor=1 / 255,
        do_center_crop=True,
        do_resize=True,
        do_rescale=True,
        do_normalize=True,
    ):
        self.size = argument_checks.resolve_int_per_dimension("size", size, 2)
        self.crop_size = argument_checks.resolve_int_per_dimension(
            "crop_size", crop_size, 2
        )
        self.image_mean = _three_floats("image_mean", image_mean)
        self.image_std = _three_floats("image_std", image_std)
        if any(std <= 0 for std in self.image_std):
            raise ValueError(
                "`image_std` entries must be positive. "
                f"Received: image_std={image_std!r}"
            )
        if isinstance(resample, bool) or not isinstance(resample, int):
            raise ValueError(
                "`resample` must be a PIL resampling filter (an int, 3 for "
                f"bicubic). Received: resample={resample!r}"
            )
        self.resample = resample
        self.rescale_factor = float(rescale_factor)
        self.do_center_crop = argument_checks.check_bool(
            "do_center_crop", do_center_crop
        )
        self.do_resize = argument_checks.check_bool("do_resize", do_resize)
        self.do_rescale = argument_checks.check_bool("do_rescale", do_rescale)
        self.do_normalize = argument_checks.check_bool(
            "do_normalize", do_normalize
        )

    @classmethod
    def from_config(cls, config):
        """From `get_config`'s dict or a `preprocessor_config.json`'s.

        Hugging Face sizes may be ints or `{"height", "width"}` dicts; other
        keys of a `preprocessor_config.json` are ignored.
        """
        kwargs = {}
        for name in ("size", "crop_size"):
            if name in config:
                kwargs[name] = _hf_size(name, config[name])
        for name in (
            "image_mean", "image_std", "resample", "rescale_factor",
            "do_center_crop", "do_resize", "do_rescale", "do_normalize",
        ):
            if config.get(name) is not None:
                kwargs[name] = config[name]
        return cls(**kwargs)

    def get_config(self):
        return {
            "size": self.size,
            "crop_size": self.crop_size,
            "image_mean": self.image_mean,
            "image_std": self.image_std,
            "resample": self.resample,
            "rescale_factor": self.rescale_factor,
            "do_center_crop": self.do_center_crop,
            "do_resize": self.do_resize,
            "do_rescale": self.do_rescale,
            "do_normalize": self.do_normalize,
        }

    def __call__(self, images):
        processed = [self.preprocess_image(image)
                     for image in items_list(images)]
        shapes = {image.shape for image in processed}
        if len(shapes) > 1:
            raise ValueError(
                "The preprocessed images must share one size to form a "
                "batch; turn `do_resize` on. "
                f"Received: images of shapes {sorted(shapes)}"
            )
        return np.stack(processed)

    def inspect(self, path):
        """Checks that one image file decodes whole, with Pillow alone
        (`keras_perceiver.modalities.image.load_image_file`)."""
        load_image_file(path)

    def preprocess_image(self, image):
        """One image as a float32 array `(height, width, 3)`."""
        pixels = _load_rgb(image)
        if self.do_center_crop:
            pixels = self._center_crop(pixels)
        if self.do_resize:
            from PIL import Image

            height, width = self.size
            pixels = np.asarray(
                Image.fromarray(pixels).resize(
                    (width, height), resample=self.resample
                )
            )
        values = pixels.astype("float64")
        if self.do_rescale:
            values = values * self.rescale_factor
        values = values.astype("float32")
        if self.do_normalize:
            mean = np.asarray(self.image_mean, "float32")
            std = np.asarray(self.image_std, "float32")
            values = (values - mean) / std
        return values

    def _center_crop(self, pixels):
        height, width = pixels.shape[:2]
        shorter = min(height, width)
        crop_height = int(self.size[0] / self.crop_size[0] * shorter)
        crop_width = int(self.size[1] / self.crop_size[1] * shorter)
        if crop_height > height or crop_width > width:
            # The crop is larger than the image (size > crop_size): pad with
            # zeros around it first, as Hugging Face's center_crop does.
            new_height = max(crop_height, height)
            new_width = max(crop_width, width)
            padded = np.zeros((new_height, new_width, 3), pixels.dtype)
            top = -(-(new_height - height) // 2)
            left = -(-(new_width - width) // 2)
            padded[top:top + height, left:left + width] = pixels
            pixels, height, width = padded, new_height, new_width
        top = (height - crop_height) // 2
        left = (width - crop_width) // 2
        return pixels[top:top + crop_height, left:left + crop_width]


def load_image(image):
    """An image file, PIL image or uint8 array as a uint8 RGB array.

    Args:
        image: a path (str or `pathlib.Path`), a PIL image, or a uint8 array
            `(H, W)`, `(H, W, 1)`, `(H, W, 3)` or `(H, W, 4)`.

    Returns:
        A uint8 array `(H, W, 3)`.

    Example:

    >>> load_image(np.zeros((4, 6), "uint8")).shape
    (4, 6, 3)
    """
    return _load_rgb(image)


def _load_rgb(image):
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        image = load_image_file(os.fspath(image))
    if isinstance(image, Image.Image):
        return np.asarray(_eight_bit(image).convert("RGB"))
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
        image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (1, 3, 4))
    ):
        if image.ndim == 2:
            image = image[..., None]
        if image.shape[-1] == 1:
            return np.repeat(image, 3, axis=-1)
        return image[..., :3]
    description = (
        f"an array of dtype {image.dtype} and shape {image.shape}"
        if isinstance(image, np.ndarray) else repr(type(image))
    )
    raise ValueError(
        "An image must be a file path, a PIL image or a uint8 array "
        f"(height, width[, 1, 3 or 4 channels]). Received: {description}"
    )


def _eight_bit(image):
    """A grey image of 16-bit values (Pillow's "I" modes, as 16-bit PNGs
    open) scaled to 8 bits, which Pillow's RGB conversion would clip to
    white instead."""
    from PIL import Image

    if image.mode not in WIDE_INTEGER_MODES:
        return image
    pixels = np.asarray(image, "float64") / WIDE_INTEGER_SCALE
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype("uint8"))


def _three_floats(name, value):
    try:
        values = tuple(float(entry) for entry in value)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3:
        raise ValueError(
            f"`{name}` must hold one number per RGB channel. "
            f"Received: {name}={value!r}"
        )
    return values


def _hf_size(name, value):
    if isinstance(value, dict):
        if "height" in value and "width" in value:
            return (value["height"], value["width"])
        raise ValueError(
            f"`{name}` must give a height and width; a shortest edge is not "
            f"how Perceiver checkpoints are preprocessed. Received: "
            f"{name}={value!r}"
        )
    return value
