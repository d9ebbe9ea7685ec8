"""Fine-tuning a loaded image checkpoint on another data set."""

import keras
import numpy as np

from keras_perceiver import adapters
from keras_perceiver.preprocessing.image_preprocessor import (
    ImagePreprocessor,
)
from keras_perceiver.models.perceiver_io import decoder_arguments
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)

IMAGE_ADAPTERS = (
    adapters.ImageAdapter,
    adapters.LearnedPositionImageAdapter,
    adapters.ConvStemImageAdapter,
)
# The names of the fine-tuned model's layers that `fine_tuned_parts` reads.
CLASSIFIER_NAME = "perceiver_io_classifier"
NORMALIZATION_NAME = "normalize"


def checkpoint_image_size(model):
    """The `(height, width)` an image classifier from a checkpoint takes.

    Args:
        model: a model from `load_checkpoint` of an image classifier.

    Returns:
        `(height, width)`, ints.

    Example:

    >>> model = load_checkpoint("deepmind/vision-perceiver-conv")
    >>> checkpoint_image_size(model)
    (224, 224)
    """
    _check_image_classifier(model)
    return tuple(model.encoder.input_adapter.input_grid_shape)


def fine_tuning_classifier(
    model,
    input_shape,
    num_classes,
    class_names=None,
    image_mean=None,
    image_std=None,
    dropout=0.0,
    preprocessor=None,
):
    """A loaded image checkpoint with a new head, on a data set's images.

    The checkpoint's encoder (its weights kept, trainable) gets a new
    `PerceiverIOClassifier` decoder for `num_classes` classes, with the
    checkpoint decoder's settings and fresh weights. The returned model
    takes the data set's images, with values in [0, 1], of any size and 1 or
    3 channels: it repeats grey to RGB, resizes (bicubic) to the size the
    checkpoint was built for, and normalises with the checkpoint's mean and
    standard deviation, all inside the model (so a `.keras` save keeps
    them, and the data need not be resized in memory). `preprocessor`,
    how raw files become those images, is kept by the new classifier (the
    layer "perceiver_io_classifier") and saved with it, so `predict` reads
    files through it.

    Args:
        model: an image classifier from `load_checkpoint`.
        input_shape: tuple `(height, width, channels)` of the data set's
            images.
        num_classes: int. Classes of the new head.
        class_names: list of str or None. Their names. Defaults to None.
        image_mean: 3 floats or None. Per-channel mean. Defaults to None:
            that of the checkpoint's `model.preprocessor` (ImageNet's
            without one).
        image_std: 3 floats or None. Per-channel standard deviation.
            Defaults to None: as `image_mean`.
        dropout: float. Dropout rate of the new decoder. Defaults to 0.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or
            None. How raw files become the data set's images (e.g. a
            `FilePreprocessor` of its settings). Defaults to None.

    Returns:
        An uncompiled functional `keras.Model` from images to logits.

    Example:

    ```python
    checkpoint = load_checkpoint("deepmind/vision-perceiver-conv")
    model = fine_tuning_classifier(checkpoint, (32, 32, 3), num_classes=10)
    model.compile(...); model.fit(images, labels)
    ```
    """
    _check_image_classifier(model)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] not in (1, 3) or any(
        size is None for size in input_shape
    ):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with 1 or 3 "
            f"channels. Received: input_shape={input_shape}"
        )
    classifier = PerceiverIOClassifier(
        model.encoder,
        num_classes=num_classes,
        decoder_use_query_residual=model.decoder.use_query_residual,
        class_names=class_names,
        preprocessor=preprocessor,
        name=CLASSIFIER_NAME,
        **{**decoder_arguments(model.decoder), "dropout": dropout},
    )
    images = keras.Input(input_shape, name="images")
    pixels = images
    if input_shape[-1] == 1:
        pixels = keras.layers.Concatenate(name="grey_to_rgb")(
            [pixels, pixels, pixels]
        )
    height, width = checkpoint_image_size(model)
    if input_shape[:2] != (height, width):
        pixels = keras.layers.Resizing(
            height, width, interpolation="bicubic", name="resize"
        )(pixels)
    checkpoint = model.preprocessor
    if not isinstance(checkpoint, ImagePreprocessor):
        checkpoint = ImagePreprocessor()
    image_mean = checkpoint.image_mean if image_mean is None else image_mean
    image_std = checkpoint.image_std if image_std is None else image_std
    pixels = keras.layers.Normalization(
        mean=list(image_mean),
        variance=[std**2 for std in image_std],
        name=NORMALIZATION_NAME,
    )(pixels)
    return keras.Model(images, classifier(pixels), name="fine_tuned")


def fine_tuned_parts(model):
    """The classifier of a `fine_tuning_classifier` model and its images'
    preprocessing, as a checkpoint has them.

    Args:
        model: a model from `fine_tuning_classifier`.

    Returns:
        `(classifier, preprocessor)`: the `PerceiverIOClassifier`, which
        takes normalised images of the checkpoint's size, and an
        `ImagePreprocessor` resizing whole images (no crop) to that size and
        normalising them with the model's mean and standard deviation.

    Example:

    >>> classifier, preprocessor = fine_tuned_parts(fine_tuned)
    >>> preprocessor.do_center_crop
    False
    """
    names = [layer.name for layer in model.layers]
    if CLASSIFIER_NAME not in names or NORMALIZATION_NAME not in names:
        raise ValueError(
            "`model` must be a Perceiver task or a model from "
            "fine_tuning_classifier (with the layers "
            f"{CLASSIFIER_NAME!r} and {NORMALIZATION_NAME!r}). "
            f"Received: model={model!r} with layers {names[:10]}"
        )
    classifier = model.get_layer(CLASSIFIER_NAME)
    normalization = model.get_layer(NORMALIZATION_NAME)
    variance = keras.ops.convert_to_numpy(normalization.variance).ravel()
    preprocessor = ImagePreprocessor(
        size=checkpoint_image_size(classifier),
        image_mean=keras.ops.convert_to_numpy(normalization.mean).ravel(),
        image_std=np.sqrt(variance),
        do_center_crop=False,
    )
    return classifier, preprocessor


def _check_image_classifier(model):
    if not isinstance(model, PerceiverIOClassifier) or not isinstance(
        model.encoder.input_adapter, IMAGE_ADAPTERS
    ):
        raise ValueError(
            "`model` must be an image classifier loaded from a checkpoint "
            "(a PerceiverIOClassifier on an image adapter). "
            f"Received: model={model!r}"
        )
