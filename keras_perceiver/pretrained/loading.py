"""Loading Hugging Face Perceiver checkpoints: the public entry points."""

import numpy as np

from keras_perceiver.models.class_ranking import class_names_of
from keras_perceiver.models.class_ranking import top_classes
from keras_perceiver.pretrained import conversion
from keras_perceiver.pretrained import files
from keras_perceiver.preprocessing.image_preprocessor import ImagePreprocessor


def load_checkpoint(checkpoint, image_size=None):
    """A Hugging Face Perceiver checkpoint as a keras-perceiver model.

    Reads `config.json` and the weights (`model.safetensors`, or
    `pytorch_model.bin` through PyTorch) of a local folder in the Hugging
    Face layout, or of a Hub id such as `"deepmind/vision-perceiver-conv"`
    (downloaded with `huggingface_hub`, from its cache when offline); or
    converts a transformers model object. transformers itself is never
    needed for files.

    Image classifiers become `keras_perceiver.PerceiverIOClassifier`s taking
    preprocessed images `(batch, height, width, 3)`, with the class names
    of `id2label` as `model.class_names` and the checkpoint's
    `ImagePreprocessor` (as `load_image_preprocessor` gives it) as
    `model.preprocessor`, kept by a `.keras` save; the masked language model becomes a
    `keras_perceiver.PerceiverMaskedLM` taking token ids of
    `keras_perceiver.ByteTokenizer`; a text classifier a
    `PerceiverIOClassifier` on token ids; the optical-flow model a
    `keras_perceiver.PerceiverOpticalFlow` taking frame pairs
    `(batch, 2, height, width, 3)` scaled to [-1, 1] and giving the flow in
    pixels.

    Args:
        checkpoint: a folder, a Hub id, or a transformers `Perceiver*`
            model.
        image_size: int, pair of ints, or None. Height and width of the
            images the model takes. Defaults to None: the size of the
            checkpoint's `preprocessor_config.json` (224 without one); the
            learned-position classifier is tied to its config's
            `image_size`; the flow model takes its config's `train_size`
            by default.

    Returns:
        The model, built and loaded, in inference mode by default.

    Example:

    ```python
    model = keras_perceiver.pretrained.load_checkpoint(
        "deepmind/vision-perceiver-conv")
    logits = model(model.preprocessor(["cat.jpg"]))
    ```
    """
    if _is_transformers_model(checkpoint):
        return convert_transformers_model(checkpoint, image_size=image_size)
    folder = files.resolve_checkpoint(checkpoint)
    config = files.read_config(folder)
    architecture = conversion.architecture_of(config)
    size = _image_size(architecture, config, image_size, folder)
    shapes = files.read_shapes(folder)
    conversion.check_sizes(architecture, config, size, shapes)
    model = conversion.build_model(architecture, config, size)
    conversion.load_weights(model, architecture, files.read_weights(folder))
    if architecture in conversion.IMAGE_ARCHITECTURES:
        model.preprocessor = _image_preprocessor(folder, size)
    return model


def checkpoint_architecture(checkpoint):
    """The architecture of a checkpoint, read from its config.json alone.

    Args:
        checkpoint: a folder or a Hub id.

    Returns:
        str, one of `SUPPORTED_ARCHITECTURES`; a `ValueError` says why for
        any other.

    Example:

    >>> checkpoint_architecture("deepmind/optical-flow-perceiver")
    'PerceiverForOpticalFlow'
    """
    folder = files.resolve_checkpoint(checkpoint)
    return conversion.architecture_of(files.read_config(folder))


def convert_transformers_model(model, image_size=None):
    """A transformers Perceiver model object as a keras-perceiver model.

    Args:
        model: a transformers `PerceiverFor*` model (its config and
            `state_dict` are read; it is not modified).
        image_size: int, pair of ints, or None. As for `load_checkpoint`
            (None: 224, or the config's `image_size` for learned positions).

    Returns:
        The built and loaded keras-perceiver model; an image classifier's
        `preprocessor` is an `ImagePreprocessor` of the published
        settings.

    Example:

    >>> import transformers
    >>> hf_model = transformers.PerceiverForImageClassificationLearned(
    ...     transformers.PerceiverConfig(num_latents=32, d_latents=64,
    ...                                  num_labels=10, image_size=32))
    >>> model = convert_transformers_model(hf_model)
    """
    if not _is_transformers_model(model):
        raise ValueError(
            "`model` must be a transformers Perceiver model (with `config` "
            f"and `state_dict`). Received: model of type {type(model)!r}"
        )
    config = model.config.to_dict()
    config["architectures"] = [type(model).__name__]
    architecture = conversion.architecture_of(config)
    size = _image_size(architecture, config, image_size, folder=None)
    weights = {
        name: tensor.detach().cpu().float().numpy()
        for name, tensor in model.state_dict().items()
        if tensor.is_floating_point()
    }
    conversion.check_sizes(
        architecture, config, size,
        {name: tuple(value.shape) for name, value in weights.items()},
    )
    converted = conversion.build_model(architecture, config, size)
    conversion.load_weights(converted, architecture, weights)
    if architecture in conversion.IMAGE_ARCHITECTURES:
        converted.preprocessor = _image_preprocessor(None, size)
    return converted


def load_image_preprocessor(checkpoint, image_size=None):
    """The preprocessing an image checkpoint expects, as `ImagePreprocessor`.

    Settings come from the checkpoint's `preprocessor_config.json` (the
    published defaults without one); the output size is the one
    `load_checkpoint` builds the model for.

    Args:
        checkpoint: a folder or a Hub id.
        image_size: int, pair of ints, or None. As for `load_checkpoint`.

    Returns:
        An `ImagePreprocessor`.

    Example:

    >>> preprocessor = load_image_preprocessor("deepmind/vision-perceiver-conv")
    >>> preprocessor(["cat.jpg"]).shape
    (1, 224, 224, 3)
    """
    folder = files.resolve_checkpoint(checkpoint)
    config = files.read_config(folder)
    architecture = conversion.architecture_of(config)
    if architecture not in conversion.IMAGE_ARCHITECTURES:
        raise ValueError(
            "Only image classifiers take images; this checkpoint is a "
            f"{architecture}. Received: checkpoint={checkpoint!r}"
        )
    return _image_preprocessor(
        folder, _image_size(architecture, config, image_size, folder))


def classify_images(model, preprocessor, images, top_k=5):
    """The `top_k` classes of each image with their probabilities.

    Args:
        model: an image classifier from `load_checkpoint`.
        preprocessor: its `ImagePreprocessor`.
        images: a list of image files, PIL images or uint8 arrays.
        top_k: int. Classes per image. Defaults to 5.

    Returns:
        One list per image of `(class name, probability)` pairs, most
        probable first; classes without names are named by their index.

    Example:

    >>> model = load_checkpoint("deepmind/vision-perceiver-conv")
    >>> preprocessor = load_image_preprocessor("deepmind/vision-perceiver-conv")
    >>> classify_images(model, preprocessor, ["cat.jpg"], top_k=1)
    [[('tabby, tabby cat', 0.87)]]
    """
    logits = np.asarray(model.predict(preprocessor(images), verbose=0))
    logits = logits - logits.max(axis=-1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    names = class_names_of(model, logits.shape[-1])
    return top_classes(probabilities, names, top_k)


def _image_preprocessor(folder, size):
    """The `ImagePreprocessor` of a checkpoint folder's
    `preprocessor_config.json` (the published defaults without one, or
    without a folder), giving images of `size`."""
    settings = {}
    if folder is not None:
        settings = files.read_json(folder, files.PREPROCESSOR_FILE) or {}
    return ImagePreprocessor.from_config({**settings, "size": size})


def _image_size(architecture, config, image_size, folder):
    if architecture not in conversion.IMAGE_ARCHITECTURES + (
        conversion.FLOW,
    ):
        return None
    settings = None
    if folder is not None:
        settings = files.read_json(folder, files.PREPROCESSOR_FILE)
    return conversion.image_size_of(
        architecture, conversion.full_config(config), image_size, settings
    )


def _is_transformers_model(value):
    return hasattr(value, "state_dict") and hasattr(value, "config") and (
        hasattr(value.config, "to_dict")
    )
