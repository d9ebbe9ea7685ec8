"""Saving a model back to Hugging Face transformers' checkpoint layout."""

import os

from keras_perceiver import __version__
from keras_perceiver import adapters
from keras_perceiver.models import saved_folder
from keras_perceiver.models.perceiver_io_classifier import (
    PerceiverIOClassifier,
)
from keras_perceiver.models.perceiver_masked_lm import PerceiverMaskedLM
from keras_perceiver.models.perceiver_multimodal_autoencoder import (
    PerceiverMultimodalAutoencoder,
)
from keras_perceiver.models.perceiver_optical_flow import (
    PerceiverOpticalFlow,
)
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.preprocessing.image_preprocessor import (
    ImagePreprocessor,
)
from keras_perceiver.pretrained import conversion
from keras_perceiver.pretrained import files
from keras_perceiver.pretrained import fine_tuning

# The classifiers' input adapters, each with the transformers architecture
# it stands for (subclasses first).
ADAPTER_ARCHITECTURES = (
    (adapters.ConvStemImageAdapter, conversion.CONV),
    (adapters.LearnedPositionImageAdapter, conversion.LEARNED),
    (adapters.ImageAdapter, conversion.FOURIER),
    (adapters.TextAdapter, conversion.TEXT_CLASSIFIER),
)
# Settings that the saved weights and outputs do not depend on: names,
# precision, training-only settings, initializers, the model's extras, the
# chunk sizes of exact chunked attention.
IGNORED_SETTINGS = (
    "name", "trainable", "dtype", "dropout", "input_chunk_size", "seed",
    "batch_norm_momentum", "class_names", "preprocessor",
    "decoder_query_chunk_size",
)
HF_IMAGE_PROCESSOR = "PerceiverImageProcessor"


def save_transformers_checkpoint(model, folder, overwrite=False):
    """Writes a model as a Hugging Face transformers checkpoint folder.

    The folder gets `config.json`, `model.safetensors` and, for image
    classifiers, `preprocessor_config.json`, such that
    `transformers.PerceiverFor...from_pretrained(folder)` gives the same
    logits (the tests check 1e-4), and `load_checkpoint(folder)` reads it
    back. Covered: what `load_checkpoint` converts (the three image
    classifiers, the text classifier, the masked language model and the
    optical flow model, whose frame size becomes `train_size`), and
    models fine-tuned from them, `fine_tuning_classifier`'s included (its
    resizing and normalisation become `preprocessor_config.json`, with no
    crop). Class names become `id2label`. A model with a setting the
    transformers classes do not have (other Fourier bands, another input
    adapter, a `Perceiver`) is refused, naming the settings. transformers
    is not needed; safetensors is.

    The folder is written under a temporary name and renamed into place
    once complete; `config.json` records the keras-perceiver version.

    Args:
        model: a built `PerceiverIOClassifier`, `PerceiverMaskedLM`,
            `PerceiverOpticalFlow` or `PerceiverMultimodalAutoencoder` in
            the transformers layout (as
            `load_checkpoint` gives them), or a model from
            `fine_tuning_classifier`.
        folder: str or path-like. The folder to create; it must not exist
            or be empty.
        overwrite: bool. Whether to replace a checkpoint folder that this
            function wrote before (never another folder). Defaults to
            False.

    Returns:
        The absolute path of the folder, as a str.

    Example:

    ```python
    model = load_checkpoint("deepmind/vision-perceiver-conv")
    save_transformers_checkpoint(model, "my-perceiver")
    # transformers.PerceiverForImageClassificationConvProcessing
    #     .from_pretrained("my-perceiver")
    ```
    """
    task, preprocessor = _task_and_preprocessor(model)
    architecture = _architecture_of(task)
    config = transformers_config(task, architecture)
    _check_expressible(task, architecture, config)
    tensors = conversion.checkpoint_tensors(task, architecture)
    if architecture in conversion.IMAGE_ARCHITECTURES:
        if not isinstance(preprocessor, ImagePreprocessor):
            preprocessor = ImagePreprocessor(
                size=fine_tuning.checkpoint_image_size(task))
    else:
        preprocessor = None
    save_file = _safetensors_writer()

    def write(staging):
        saved_folder.write_json(staging, files.CONFIG_FILE, config)
        save_file(tensors, os.path.join(staging, files.SAFETENSORS_FILE),
                  metadata={"format": "pt"})
        if preprocessor is not None:
            saved_folder.write_json(staging, files.PREPROCESSOR_FILE,
                                    _processor_config(preprocessor))

    return saved_folder.write_folder(folder, write, files.CONFIG_FILE,
                                     overwrite)


def transformers_config(model, architecture):
    """The transformers `config.json` of a model, as a dict.

    Args:
        model: a built `PerceiverIOClassifier` or `PerceiverMaskedLM`.
        architecture: str. Its transformers architecture.

    Returns:
        The config: the encoder's sizes, the architecture, the classes
        (`num_labels`, and `id2label`/`label2id` from the class names).

    Example:

    >>> transformers_config(model, "PerceiverForMaskedLM")["d_latents"]
    1280
    """
    encoder = model.encoder
    self_qk = encoder.self_qk_channels
    config = {
        "architectures": [architecture],
        "model_type": "perceiver",
        "num_latents": encoder.num_latents,
        "d_latents": encoder.latent_dim,
        "d_model": encoder.byte_array_shape[-1],
        "num_blocks": encoder.num_blocks,
        "num_self_attends_per_block": encoder.num_self_attends_per_block,
        "num_self_attention_heads": encoder.num_self_heads,
        "num_cross_attention_heads": encoder.num_cross_heads,
        "qk_channels": self_qk,
        "v_channels": encoder.self_v_channels,
        "cross_attention_shape_for_attention": (
            "kv" if encoder.cross_qk_channels == self_qk else "q"),
        "self_attention_widening_factor": encoder.self_widening_factor,
        "cross_attention_widening_factor": encoder.cross_widening_factor,
        "hidden_act": "gelu",
        "use_query_residual": encoder.cross_use_query_residual,
        "torch_dtype": "float32",
        saved_folder.VERSION_KEY: __version__,
    }
    adapter = encoder.input_adapter
    if isinstance(adapter, adapters.TextAdapter):
        config["vocab_size"] = adapter.vocabulary_size
        config["max_position_embeddings"] = adapter.max_length
    if architecture == conversion.LEARNED:
        config["image_size"] = _square_side(model)
    if architecture == conversion.FLOW:
        config["train_size"] = list(adapter.grid_shape)
    if architecture == conversion.MULTIMODAL:
        config.update(_multimodal_config(model))
    if isinstance(model, PerceiverIOClassifier):
        config["num_labels"] = model.num_classes
        if model.class_names:
            config["id2label"] = dict(enumerate(model.class_names))
            config["label2id"] = {
                name: index for index, name in enumerate(model.class_names)
            }
    return config


def _task_and_preprocessor(model):
    if isinstance(model, PerceiverTask):
        return model, model.preprocessor
    return fine_tuning.fine_tuned_parts(model)


def _architecture_of(model):
    if not model.built:
        raise ValueError(
            "Only a built model can be saved: call it on data or `build()` "
            f"it first. Received: an unbuilt {model.name}"
        )
    if isinstance(model, PerceiverMaskedLM):
        return conversion.MASKED_LM
    if isinstance(model, PerceiverOpticalFlow):
        return conversion.FLOW
    if isinstance(model, PerceiverMultimodalAutoencoder):
        return conversion.MULTIMODAL
    adapter = model.encoder.input_adapter
    if isinstance(model, PerceiverIOClassifier):
        for adapter_class, architecture in ADAPTER_ARCHITECTURES:
            if isinstance(adapter, adapter_class):
                return architecture
    raise ValueError(
        "The transformers layout has Perceiver IO classifiers on images "
        "(ImageAdapter, LearnedPositionImageAdapter, ConvStemImageAdapter) "
        "or text (TextAdapter), the masked language model, the optical "
        "flow model and the multimodal autoencoder. "
        f"Received: a {type(model).__name__} on "
        f"{type(adapter).__name__ if adapter is not None else 'byte arrays'}"
    )


def _multimodal_config(model):
    """The multimodal autoencoder's sizes, as transformers names them."""
    adapter = model.encoder.input_adapter
    frames, height, width, _ = adapter.video_shape
    resolution = tuple(adapter.video_adapter.max_resolution)
    if resolution[0] != frames or resolution[1] != resolution[2]:
        raise ValueError(
            "transformers' multimodal autoencoder takes the video's Fourier "
            "resolution as (num_frames, image_size, image_size). Received: "
            f"video_max_resolution={resolution} for {frames} frames"
        )
    return {
        "num_frames": frames,
        "image_size": resolution[1],
        "audio_samples_per_frame": adapter.audio_samples_per_frame,
        "samples_per_patch": adapter.samples_per_patch,
        "output_shape": [1, frames, height, width],
        "output_num_channels": model.output_num_channels,
        "_label_trainable_num_channels": model.output_queries.label_channels,
        "num_labels": adapter.num_labels,
    }


def _square_side(model):
    height, width = fine_tuning.checkpoint_image_size(model)
    if height != width:
        raise ValueError(
            "transformers' learned-position classifier takes square images "
            "(one `image_size`). Received: a model of "
            f"{height} x {width} images"
        )
    return height


def _check_expressible(model, architecture, config):
    """Raises unless the model is what transformers builds from `config`:
    every setting that shapes the weights or the logits equal."""
    size = None
    if architecture in conversion.IMAGE_ARCHITECTURES:
        size = fine_tuning.checkpoint_image_size(model)
    if architecture == conversion.FLOW:
        size = config["train_size"]
    reference = conversion.build_model(architecture, config, size)
    ours, theirs = _settings(model), _settings(reference)
    differences = [
        f"{part}.{key}={ours[part].get(key)!r} (transformers has "
        f"{theirs[part].get(key)!r})"
        for part in ours
        for key in sorted(set(ours[part]) | set(theirs[part]))
        if key not in IGNORED_SETTINGS and not key.endswith("_initializer")
        and ours[part].get(key) != theirs[part].get(key)
    ]
    if differences:
        raise ValueError(
            "The model cannot be saved in the transformers layout: "
            f"{architecture} fixes settings this model does not have: "
            f"{'; '.join(differences[:5])}. Received: model={model.name}"
        )


def _settings(model):
    """The model's settings by part: the encoder, its adapter, the head."""
    encoder = model.encoder.get_config()
    for key in ("input_adapter", "num_bands", "max_resolution"):
        encoder.pop(key)  # The adapter's own settings are compared.
    head = model.get_config()
    head.pop("encoder")
    return {
        "encoder": encoder,
        "input_adapter": model.encoder.input_adapter.get_config(),
        "model": head,
    }


def _processor_config(preprocessor):
    """An `ImagePreprocessor` as transformers' `preprocessor_config.json`."""
    config = preprocessor.get_config()
    for key in ("size", "crop_size"):
        height, width = config[key]
        config[key] = {"height": height, "width": width}
    return {"image_processor_type": HF_IMAGE_PROCESSOR, **config}


def _safetensors_writer():
    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise ValueError(
            "Writing model.safetensors needs the safetensors package (pip "
            "install 'keras-perceiver[checkpoints]'). "
            "Received: no module named 'safetensors'"
        ) from None
    return save_file
