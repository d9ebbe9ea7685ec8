"""`Preprocessor`: raw items in, a model's inputs out, saved with the model."""

import os

import keras


class Preprocessor:
    """How raw items (files, images, ...) become a model's inputs.

    The base of the package's preprocessors: `FilePreprocessor` (files
    read as a data set's files were read in training) and
    `ImagePreprocessor` (Hugging Face's image processing, for converted
    image checkpoints). A task model (`Perceiver`,
    `PerceiverIOClassifier`, `PerceiverMaskedLM`) keeps one as
    `model.preprocessor` and saves it in its config, so a `.keras` file
    carries how to read raw inputs. A subclass is registered with
    `keras.saving.register_keras_serializable` and defines `__call__`,
    `inspect`, `modality` and `get_config`.

    Attributes:
        modality: str. The modality of the raw items, e.g. "image".

    Example:

    >>> preprocessor = FilePreprocessor("image", image_size=[8, 8],
    ...                                 channels=1)
    >>> inputs = preprocessor(["cat.png", "dog.png"])   # (2, 8, 8, 1)
    """

    modality = None

    def __call__(self, items):
        """The model's inputs for a batch of raw items.

        Args:
            items: one raw item or a list of them.

        Returns:
            The batch, as NumPy arrays (a dict of them for inputs with a
            mask).
        """
        raise NotImplementedError

    def inspect(self, path):
        """Opens one file and raises `ValueError` naming it if it cannot be
        read as this preprocessor reads it."""
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        settings = ", ".join(f"{key}={value!r}"
                             for key, value in self.get_config().items())
        return f"{type(self).__name__}({settings})"


def as_preprocessor(value):
    """A task's `preprocessor` argument as a `Preprocessor` (or None).

    Args:
        value: a `Preprocessor`, its serialised form
            (`keras.saving.serialize_keras_object`, as a task's config
            holds it), an `input_preprocessing` dict of earlier releases
            (`{"modality": ..., ...}`, read as a `FilePreprocessor`), or
            None.

    Returns:
        A `Preprocessor`, or None.

    Raises:
        ValueError: for any other value.

    Example:

    >>> as_preprocessor({"modality": "image", "image_size": [8, 8],
    ...                  "channels": 1})
    FilePreprocessor(modality='image', image_size=[8, 8], channels=1)
    """
    from keras_perceiver.preprocessing.file_preprocessor import (
        FilePreprocessor,
    )

    if value is None or isinstance(value, Preprocessor):
        return value
    if isinstance(value, dict) and "class_name" in value:
        return as_preprocessor(keras.saving.deserialize_keras_object(value))
    if isinstance(value, dict) and "modality" in value:
        return FilePreprocessor.from_config(value)
    raise ValueError(
        "`preprocessor` must be a keras_perceiver Preprocessor "
        "(FilePreprocessor, ImagePreprocessor), a dict of file settings with "
        f"a 'modality', or None. Received: preprocessor={value!r}"
    )


def preprocessor_of(model):
    """The preprocessor a model keeps, or None.

    Args:
        model: a Keras model: a task with a `preprocessor`, or a model
            holding one such layer (as `fine_tuning_classifier` wraps its
            classifier).

    Returns:
        The `Preprocessor`, or None where no layer keeps one.

    Example:

    >>> preprocessor_of(keras_perceiver.Perceiver(num_classes=2)) is None
    True
    """
    own = getattr(model, "preprocessor", None)
    if own is not None:
        return own
    kept = [layer.preprocessor for layer in getattr(model, "layers", [])
            if getattr(layer, "preprocessor", None) is not None]
    return kept[0] if len(kept) == 1 else None


def serialized(preprocessor):
    """A task's `preprocessor` as its config holds it (None stays None).

    Example:

    >>> serialized(None) is None
    True
    """
    if preprocessor is None:
        return None
    return keras.saving.serialize_keras_object(preprocessor)


def file_settings(preprocessor):
    """The settings dict of a `FilePreprocessor` (a copy), else None: the
    `input_preprocessing` of earlier releases.

    Example:

    >>> file_settings(FilePreprocessor("sequence", num_features=2,
    ...                                max_length=9))
    {'modality': 'sequence', 'num_features': 2, 'max_length': 9}
    """
    from keras_perceiver.preprocessing.file_preprocessor import (
        FilePreprocessor,
    )

    if isinstance(preprocessor, FilePreprocessor):
        return preprocessor.get_config()
    return None


def items_list(items):
    """`items` as a non-empty list: one item becomes a list of one.

    Raises:
        ValueError: if there is no item.

    Example:

    >>> items_list("cat.png")
    ['cat.png']
    """
    if not isinstance(items, (list, tuple)):
        items = [items]
    if not items:
        raise ValueError(
            "A preprocessor needs at least one item. Received: an empty list"
        )
    return list(items)


def is_path(item):
    """Whether `item` is a file path (str or `os.PathLike`).

    Example:

    >>> is_path("cat.png"), is_path(3)
    (True, False)
    """
    return isinstance(item, (str, os.PathLike))
