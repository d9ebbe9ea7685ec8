"""Reading image files with Pillow, refusing what cannot be read safely."""

import warnings


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
