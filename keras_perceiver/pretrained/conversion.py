"""Hugging Face Perceiver checkpoints as keras-perceiver models.

transformers ports DeepMind's Perceiver IO weights (`deepmind/*` on the
Hub). This module rebuilds the same networks from `config.json` alone (no
transformers needed) and copies the weights: PyTorch `Linear` weights
`(out, in)` become Dense kernels `(in, out)`, convolution weights
`(out, in, kh, kw)` become `(kh, kw, in, out)`, LayerNorm weight/bias become
gamma/beta. Every tensor must be used and every weight filled, with equal
shapes, or a `ValueError` names what differs.

Covered architectures (config.json `"architectures"`):

- `PerceiverForImageClassificationFourier`, `...Learned`,
  `...ConvProcessing` -> `keras_perceiver.PerceiverIOClassifier` on an
  `ImageAdapter`, `LearnedPositionImageAdapter` or `ConvStemImageAdapter`;
- `PerceiverForSequenceClassification` -> `PerceiverIOClassifier` on a
  `TextAdapter`;
- `PerceiverForMaskedLM` -> `keras_perceiver.PerceiverMaskedLM`;
- `PerceiverForOpticalFlow` -> `keras_perceiver.PerceiverOpticalFlow` on a
  `FlowAdapter`;
- `PerceiverForMultimodalAutoencoding` ->
  `keras_perceiver.PerceiverMultimodalAutoencoder` on a
  `MultimodalAutoencodingAdapter`.

The others are refused with the reason (`UNSUPPORTED_ARCHITECTURES`).
"""

import re

import numpy as np

from keras_perceiver import adapters
from keras_perceiver.pretrained import files
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
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

FOURIER = "PerceiverForImageClassificationFourier"
LEARNED = "PerceiverForImageClassificationLearned"
CONV = "PerceiverForImageClassificationConvProcessing"
TEXT_CLASSIFIER = "PerceiverForSequenceClassification"
MASKED_LM = "PerceiverForMaskedLM"
FLOW = "PerceiverForOpticalFlow"
MULTIMODAL = "PerceiverForMultimodalAutoencoding"
IMAGE_ARCHITECTURES = (FOURIER, LEARNED, CONV)
SUPPORTED_ARCHITECTURES = IMAGE_ARCHITECTURES + (
    TEXT_CLASSIFIER, MASKED_LM, FLOW, MULTIMODAL
)
"""The Hugging Face Perceiver architectures `load_checkpoint` converts."""

UNSUPPORTED_ARCHITECTURES = {
    "PerceiverModel": (
        "the bare PerceiverModel has no input preprocessor or decoder in "
        "its config.json (they are chosen in code), so there is no model "
        "to rebuild"
    ),
}
"""The architectures `load_checkpoint` refuses: name -> the reason."""

# transformers' PerceiverConfig defaults, for config.json files that leave
# them out.
CONFIG_DEFAULTS = {
    "num_latents": 256,
    "d_latents": 1280,
    "d_model": 768,
    "num_blocks": 1,
    "num_self_attends_per_block": 26,
    "num_self_attention_heads": 8,
    "num_cross_attention_heads": 8,
    "qk_channels": None,
    "v_channels": None,
    "cross_attention_shape_for_attention": "kv",
    "self_attention_widening_factor": 1,
    "cross_attention_widening_factor": 1,
    "hidden_act": "gelu",
    "use_query_residual": True,
    "vocab_size": 262,
    "max_position_embeddings": 2048,
    "image_size": 56,
    "train_size": [368, 496],
    "num_frames": 16,
    "audio_samples_per_frame": 1920,
    "samples_per_patch": 16,
    "output_shape": [1, 16, 224, 224],
    "output_num_channels": 512,
    "_label_trainable_num_channels": 1024,
}

# config.json sizes: positive integers, and those that may be null.
POSITIVE_INT_KEYS = (
    "num_latents", "d_latents", "d_model", "num_blocks",
    "num_self_attends_per_block", "num_self_attention_heads",
    "num_cross_attention_heads", "self_attention_widening_factor",
    "cross_attention_widening_factor", "vocab_size",
    "max_position_embeddings", "image_size", "num_frames",
    "audio_samples_per_frame", "samples_per_patch", "output_num_channels",
    "_label_trainable_num_channels",
)
OPTIONAL_INT_KEYS = ("qk_channels", "v_channels", "num_labels")

# The fixed settings of transformers' image classifiers.
FOURIER_BANDS = 64
FOURIER_MAX_RESOLUTION = 224
CONV_FILTERS = 64
CONV_MAX_RESOLUTION = 56
LEARNED_CHANNELS = 256
MASKED_LM_DECODER_HEADS = 8
MASKED_LM_DECODER_QK_CHANNELS = 8 * 32
# The fixed settings of transformers' optical-flow model.
FLOW_CHANNELS = 64
FLOW_BANDS = 64
# Pixels the converted flow model decodes at a time (the same flow as all
# at once): a Sintel frame, 436 x 1024, in 28 chunks.
FLOW_QUERY_CHUNK_SIZE = 16384
# The fixed settings of transformers' multimodal autoencoder: RGB video in
# 4 x 4 patches, its Fourier bands, the learned paddings' minimum widths,
# and the label masked (DeepMind's test-time setting).
MULTIMODAL_VIDEO_CHANNELS = 3
MULTIMODAL_PATCH_SIZE = 4
MULTIMODAL_AUDIO_BANDS = 192
MULTIMODAL_VIDEO_BANDS = 32
MULTIMODAL_INPUT_PADDING = 4
MULTIMODAL_QUERY_PADDING = 2
MULTIMODAL_MASK_PROBS = {"audio": 0.0, "video": 0.0, "label": 1.0}
DEFAULT_IMAGE_SIZE = 224
# The largest image side read from preprocessor_config.json: a million
# pixels, the input size chunked cross-attention is measured at.
MAX_IMAGE_SIDE_FROM_FILE = 1024
# The most latent-Transformer repeats a config.json may ask for: the
# published checkpoints use 1 to 8, and no weight shape bounds it.
MAX_NUM_BLOCKS = 64

# The names of the self-attention layers' tensors.
SELF_ATTEND = re.compile(r"perceiver\.encoder\.self_attends\.(\d+)\.")

# Tensors that hold no weights (BatchNorm's update counter).
IGNORED_SUFFIXES = ("num_batches_tracked",)


def architecture_of(config):
    """The checkpoint's architecture name; raises if it is not covered."""
    model_type = config.get("model_type", "perceiver")
    if model_type != "perceiver":
        raise ValueError(
            "The checkpoint is not a Perceiver (config.json `model_type` is "
            f"{model_type!r}). Received: model_type={model_type!r}"
        )
    architectures = config.get("architectures") or []
    if not isinstance(architectures, list) or len(architectures) != 1 or (
        not isinstance(architectures[0], str)
    ):
        raise ValueError(
            "config.json must name one Perceiver architecture under "
            f"`architectures`, one of {list(SUPPORTED_ARCHITECTURES)}. "
            f"Received: architectures={architectures!r}"
        )
    architecture = architectures[0]
    if architecture in UNSUPPORTED_ARCHITECTURES:
        raise ValueError(
            f"{architecture} checkpoints cannot be converted: "
            f"{UNSUPPORTED_ARCHITECTURES[architecture]}. Supported: "
            f"{list(SUPPORTED_ARCHITECTURES)}. "
            f"Received: architectures={architectures!r}"
        )
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise ValueError(
            f"`architectures` must be one of {list(SUPPORTED_ARCHITECTURES)}."
            f" Received: architectures={architectures!r}"
        )
    return architecture


def full_config(config):
    """config.json with transformers' defaults for the keys it omits.

    Raises a `ValueError` naming the key unless every setting has the type
    and range transformers gives it.
    """
    config = {**CONFIG_DEFAULTS, **config}
    for key in POSITIVE_INT_KEYS + OPTIONAL_INT_KEYS:
        value = config.get(key)
        if value is None and key in OPTIONAL_INT_KEYS:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or (
            value <= 0
        ):
            raise ValueError(
                f"config.json `{key}` must be a positive integer"
                f"{' or null' if key in OPTIONAL_INT_KEYS else ''}. "
                f"Received: {key}={value!r}"
            )
    if config["num_blocks"] > MAX_NUM_BLOCKS:
        raise ValueError(
            f"config.json `num_blocks` must be at most {MAX_NUM_BLOCKS}: "
            "the blocks share their weights, so the file cannot show how "
            "many there are, and a model of more would run for hours. "
            f"Received: num_blocks={config['num_blocks']}"
        )
    if config["hidden_act"] != "gelu":
        raise ValueError(
            "Only the exact GELU of the published checkpoints is supported "
            "as `hidden_act`. "
            f"Received: hidden_act={config['hidden_act']!r}"
        )
    shape = config["cross_attention_shape_for_attention"]
    if shape not in ("kv", "q"):
        raise ValueError(
            "`cross_attention_shape_for_attention` must be 'kv' or 'q'. "
            f"Received: cross_attention_shape_for_attention={shape!r}"
        )
    if not isinstance(config["use_query_residual"], bool):
        raise ValueError(
            "config.json `use_query_residual` must be true or false. "
            f"Received: use_query_residual={config['use_query_residual']!r}"
        )
    train_size = config["train_size"]
    if not isinstance(train_size, (list, tuple)) or len(train_size) != 2 or (
        not all(isinstance(side, int) and not isinstance(side, bool)
                and side > 0 for side in train_size)
    ):
        raise ValueError(
            "config.json `train_size` must be two positive integers, the "
            "flow model's (height, width). "
            f"Received: train_size={train_size!r}"
        )
    class_names_of(config)
    return config


def class_names_of(config):
    """Class names from `id2label` (in index order), or None."""
    id2label = config.get("id2label")
    if not id2label:
        return None
    if not isinstance(id2label, dict) or not all(
        _class_number(key) is not None and isinstance(value, str)
        for key, value in id2label.items()
    ):
        raise ValueError(
            "config.json `id2label` must map class numbers to names, as in "
            '{"0": "tench", "1": "goldfish"}. '
            f"Received: id2label={str(id2label)[:100]}"
        )
    labels = {_class_number(key): value for key, value in id2label.items()}
    if sorted(labels) != list(range(len(labels))):
        raise ValueError(
            "config.json `id2label` must number the classes 0..n-1. "
            f"Received: id2label keys {sorted(labels)[:10]}"
        )
    return [labels[index] for index in range(len(labels))]


def _class_number(key):
    """An `id2label` key as an int (JSON keys are strings), or None."""
    if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
        return key
    if isinstance(key, str) and re.fullmatch(r"\d{1,9}", key):
        return int(key)
    return None


def num_classes_of(config):
    names = class_names_of(config)
    if names is not None:
        return len(names)
    return config.get("num_labels") or 2


def image_size_of(architecture, config, image_size, preprocessor_config):
    """The image size the converted model is built for.

    A size read from `preprocessor_config.json` is refused above
    `MAX_IMAGE_SIDE_FROM_FILE` per side: the file is not trusted to make
    the model allocate terabytes; `image_size` chooses a larger size.
    """
    if image_size is None and architecture == LEARNED:
        image_size = config["image_size"]
    if image_size is None and architecture == FLOW:
        image_size = config["train_size"]
    if image_size is None and preprocessor_config:
        image_size = _size_from_file(preprocessor_config.get("size"))
    if image_size is None:
        image_size = DEFAULT_IMAGE_SIZE
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    image_size = tuple(image_size)
    if len(image_size) != 2 or not all(
        isinstance(size, int) and size > 0 for size in image_size
    ):
        raise ValueError(
            "`image_size` must be a positive int or a (height, width) pair. "
            f"Received: image_size={image_size!r}"
        )
    return image_size


def _size_from_file(size):
    """`preprocessor_config.json`'s "size" as a (height, width) pair (or
    None, or as found for `image_size_of` to refuse), within bounds."""
    if isinstance(size, dict):
        size = (size.get("height"), size.get("width"))
    sides = (size, size) if isinstance(size, int) else size
    if (isinstance(sides, (list, tuple))
            and all(isinstance(side, int) for side in sides)
            and max(sides, default=0) > MAX_IMAGE_SIDE_FROM_FILE):
        raise ValueError(
            "preprocessor_config.json asks for images of "
            f"{' x '.join(map(str, sides))} pixels; at most "
            f"{MAX_IMAGE_SIDE_FROM_FILE} per side is taken from a file. Pass "
            "image_size (--image-size) to choose a larger size on purpose. "
            f"Received: size={size!r}"
        )
    return size


def check_sizes(architecture, config, image_size, shapes):
    """Raises unless config.json's sizes match the checkpoint's tensors.

    Runs before `build_model`, so that a config.json whose sizes the
    weights do not have (`num_latents=1e6`, a thousand self-attends) is
    refused before any memory is allocated for them.

    Args:
        architecture: str. One of `SUPPORTED_ARCHITECTURES`.
        config: dict. The checkpoint's config.json.
        image_size: pair of ints or None. The size the model is built for.
        shapes: dict of tensor name -> shape (`files.read_shapes`).
    """
    config = full_config(config)
    self_attends = {
        int(match.group(1)) for match in map(SELF_ATTEND.match, shapes)
        if match
    }
    if config["num_self_attends_per_block"] != len(self_attends):
        raise ValueError(
            "config.json `num_self_attends_per_block` does not match the "
            "weights. Received: num_self_attends_per_block="
            f"{config['num_self_attends_per_block']}, weights holding "
            f"{len(self_attends)} self-attention layers"
        )
    for key, value, name, axis, expected in _size_rules(
        architecture, config, image_size
    ):
        if name not in shapes or len(shapes[name]) <= axis:
            raise ValueError(
                f"The weights lack {name}, by which config.json `{key}` is "
                f"checked. Received: {key}={value}, "
                f"{name} of shape {shapes.get(name)}"
            )
        if shapes[name][axis] != expected:
            raise ValueError(
                f"config.json `{key}` does not match the weights: {name} "
                f"of shape {shapes[name]} needs {expected} along axis "
                f"{axis}. Received: {key}={value}"
            )


def _size_rules(architecture, config, image_size):
    """`(config key, value, tensor name, axis, expected length)` for each
    size the config gives the model."""
    latents = "perceiver.embeddings.latents"
    cross = "perceiver.encoder.cross_attention"
    first = "perceiver.encoder.self_attends.0"
    prefix = "perceiver.input_preprocessor"
    width = config["d_latents"]

    def rule(key, name, axis, expected=None):
        if expected is None:
            expected = config[key]
        return key, config[key], name, axis, expected

    rules = [
        rule("num_latents", latents, 0),
        rule("d_latents", latents, 1),
        rule("cross_attention_widening_factor", f"{cross}.mlp.dense1.weight",
             0, config["cross_attention_widening_factor"] * width),
        rule("self_attention_widening_factor", f"{first}.mlp.dense1.weight",
             0, config["self_attention_widening_factor"] * width),
    ]
    if architecture != FLOW:  # The flow model's input width is fixed.
        rules.append(
            rule("d_model", f"{cross}.attention.self.layernorm2.weight", 0)
        )
    for key, layer in (("qk_channels", "query"), ("v_channels", "value")):
        if config[key] is not None:
            name = f"{first}.attention.self.{layer}.weight"
            rules.append(rule(key, name, 0))
    if architecture in (TEXT_CLASSIFIER, MASKED_LM):
        rules += [
            rule("vocab_size", f"{prefix}.embeddings.weight", 0),
            rule("max_position_embeddings",
                 f"{prefix}.position_embeddings.weight", 0),
        ]
    if architecture == LEARNED:
        rules.append(
            ("image_size", image_size,
             f"{prefix}.position_embeddings.position_embeddings", 0,
             image_size[0] * image_size[1])
        )
    if architecture not in (MASKED_LM, FLOW):
        classes = num_classes_of(config)
        rules.append(
            ("id2label" if class_names_of(config) else "num_labels",
             f"{classes} classes", _classifier_of(architecture), 0, classes)
        )
    if architecture == MULTIMODAL:
        rules.append(
            rule("output_num_channels",
                 "perceiver.decoder.decoder.final_layer.weight", 0)
        )
    return rules


def _classifier_of(architecture):
    """The tensor whose rows are the classes."""
    if architecture == MULTIMODAL:
        return f"{MULTIMODAL_HEADS}.label.classifier.weight"
    return "perceiver.decoder.decoder.final_layer.weight"


def build_model(architecture, config, image_size=None):
    """The keras-perceiver model for a checkpoint, built, weights random.

    Args:
        architecture: str. One of `SUPPORTED_ARCHITECTURES`.
        config: dict. The checkpoint's config.json (defaults filled in).
        image_size: pair of ints or None. Height and width of the images,
            for the image classifiers and the flow model.

    Returns:
        A built `PerceiverIOClassifier`, `PerceiverMaskedLM` or
        `PerceiverOpticalFlow`.
    """
    config = full_config(config)
    if architecture == MULTIMODAL:
        return _multimodal_model(config)
    if architecture in IMAGE_ARCHITECTURES:
        input_shape = (None,) + tuple(image_size) + (3,)
    elif architecture == FLOW:
        input_shape = (None, 2) + tuple(image_size) + (3,)
    else:
        input_shape = (None, config["max_position_embeddings"])
    encoder = PerceiverEncoder(
        input_adapter=_input_adapter(architecture, config),
        **_encoder_arguments(config),
    )
    if architecture == MASKED_LM:
        model = PerceiverMaskedLM(
            encoder,
            decoder_num_heads=MASKED_LM_DECODER_HEADS,
            decoder_qk_channels=MASKED_LM_DECODER_QK_CHANNELS,
            decoder_v_channels=config["d_model"],
        )
    elif architecture == FLOW:
        model = PerceiverOpticalFlow(
            encoder, decoder_qk_channels=_cross_qk_channels(config, None),
            decoder_query_chunk_size=FLOW_QUERY_CHUNK_SIZE,
        )
    else:
        model = PerceiverIOClassifier(
            encoder,
            num_classes=num_classes_of(config),
            decoder_qk_channels=_cross_qk_channels(config, None),
            class_names=class_names_of(config),
        )
    model.build(input_shape)
    return model


def _multimodal_model(config):
    """A built `PerceiverMultimodalAutoencoder` for the config."""
    frames, side = config["num_frames"], config["image_size"]
    adapter = adapters.MultimodalAutoencodingAdapter(
        num_frames=frames,
        frame_size=_multimodal_frame_size(config),
        audio_samples_per_frame=config["audio_samples_per_frame"],
        num_labels=num_classes_of(config),
        num_channels=MULTIMODAL_VIDEO_CHANNELS,
        samples_per_patch=config["samples_per_patch"],
        video_patch_size=MULTIMODAL_PATCH_SIZE,
        audio_num_bands=MULTIMODAL_AUDIO_BANDS,
        video_num_bands=MULTIMODAL_VIDEO_BANDS,
        # transformers' Fourier features of the patches in and the pixels
        # out both span (num_frames, image_size, image_size): the published
        # model's (16, 56, 56), its patch grid, on 224 x 224 frames.
        video_max_resolution=(frames, side, side),
        min_padding_size=MULTIMODAL_INPUT_PADDING,
        mask_probs=MULTIMODAL_MASK_PROBS,
    )
    model = PerceiverMultimodalAutoencoder(
        PerceiverEncoder(input_adapter=adapter, **_encoder_arguments(config)),
        output_num_channels=config["output_num_channels"],
        label_query_channels=config["_label_trainable_num_channels"],
        query_padding_size=MULTIMODAL_QUERY_PADDING,
        decoder_qk_channels=_cross_qk_channels(config, None),
    )
    model.build(adapter.input_shapes)
    return model


def _multimodal_frame_size(config):
    """The frames' (height, width): the decoded video's, `output_shape`
    `[batch, num_frames, height, width]`, in whole 4 x 4 patches."""
    output_shape = config["output_shape"]
    if not (
        isinstance(output_shape, (list, tuple)) and len(output_shape) == 4
        and all(isinstance(size, int) and size > 0 for size in output_shape)
        and output_shape[1] == config["num_frames"]
        and all(size % MULTIMODAL_PATCH_SIZE == 0
                for size in output_shape[2:])
    ):
        raise ValueError(
            "config.json `output_shape` must be [batch, num_frames, height, "
            f"width] with num_frames {config['num_frames']} and height and "
            f"width multiples of {MULTIMODAL_PATCH_SIZE} (the video is "
            "decoded at its input size). "
            f"Received: output_shape={output_shape!r}"
        )
    return tuple(output_shape[2:])


def _cross_qk_channels(config, qk_channels):
    """transformers' query/key width default for a cross-attention."""
    if qk_channels is None and (
        config["cross_attention_shape_for_attention"] == "q"
    ):
        return config["d_latents"]
    return qk_channels


def _encoder_arguments(config):
    return dict(
        num_latents=config["num_latents"],
        latent_dim=config["d_latents"],
        num_blocks=config["num_blocks"],
        num_self_attends_per_block=config["num_self_attends_per_block"],
        num_cross_heads=config["num_cross_attention_heads"],
        num_self_heads=config["num_self_attention_heads"],
        cross_qk_channels=_cross_qk_channels(config, config["qk_channels"]),
        cross_v_channels=config["v_channels"],
        self_qk_channels=config["qk_channels"],
        self_v_channels=config["v_channels"],
        cross_widening_factor=config["cross_attention_widening_factor"],
        self_widening_factor=config["self_attention_widening_factor"],
        cross_use_query_residual=bool(config["use_query_residual"]),
        block_scheme="perceiver_io",
    )


def _input_adapter(architecture, config):
    if architecture == FOURIER:
        return adapters.ImageAdapter(
            num_bands=FOURIER_BANDS, max_resolution=FOURIER_MAX_RESOLUTION
        )
    if architecture == LEARNED:
        return adapters.LearnedPositionImageAdapter(
            num_channels=LEARNED_CHANNELS,
            position_channels=LEARNED_CHANNELS,
            projected_position_channels=LEARNED_CHANNELS,
        )
    if architecture == FLOW:
        return adapters.FlowAdapter(
            num_channels=FLOW_CHANNELS,
            num_bands=FLOW_BANDS,
            max_resolution=tuple(config["train_size"]),
        )
    if architecture == CONV:
        return adapters.ConvStemImageAdapter(
            num_filters=CONV_FILTERS,
            num_bands=FOURIER_BANDS,
            max_resolution=CONV_MAX_RESOLUTION,
        )
    return adapters.TextAdapter(
        vocabulary_size=config["vocab_size"],
        max_length=config["max_position_embeddings"],
        embedding_dim=config["d_model"],
    )


def load_weights(model, architecture, weights):
    """Copies a checkpoint's tensors into a model from `build_model`.

    Args:
        model: the built keras-perceiver model.
        architecture: str. The checkpoint's architecture.
        weights: dict of tensor name -> NumPy array (transformers' names).
    """
    weights = files.as_float32(weights)
    pairs = weight_pairs(model, architecture)
    expected = {name for name, _, _ in pairs}
    received = {
        name for name in weights if not name.endswith(IGNORED_SUFFIXES)
    }
    missing = sorted(expected - received)
    unexpected = sorted(received - expected)
    if missing or unexpected:
        raise ValueError(
            f"The weights do not match a {architecture} built from "
            f"config.json: {_listing('missing', missing)}"
            f"{'; ' if missing and unexpected else ''}"
            f"{_listing('unexpected', unexpected)}. "
            f"Received: {len(received)} tensors"
        )
    mismatched = []
    for name, variable, transform in pairs:
        value = transform(weights[name])
        if tuple(value.shape) != tuple(variable.shape):
            mismatched.append(
                f"{name} of shape {tuple(weights[name].shape)} (the config "
                f"gives {tuple(variable.shape)} after conversion, found "
                f"{tuple(value.shape)})"
            )
    if mismatched:
        raise ValueError(
            "The weights do not match the shapes config.json gives: "
            f"{'; '.join(mismatched[:5])}"
            f"{' ...' if len(mismatched) > 5 else ''}. "
            f"Received: {len(mismatched)} mismatched tensors"
        )
    for name, variable, transform in pairs:
        variable.assign(transform(weights[name]))


def _listing(kind, names):
    if not names:
        return ""
    shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
    return f"{len(names)} {kind} tensors ({shown})"


def _same(value):
    return value


def _linear(value):
    return np.transpose(value)


def _one_row(value):
    return value[0]


def _conv(value):
    return np.transpose(value, (2, 3, 1, 0))


def _conv1x1(value):
    return np.transpose(value[:, :, 0, 0]) if value.ndim == 4 else value


# Each transform's inverse: a keras weight back to transformers' tensor.
INVERSE_TRANSFORMS = {
    _same: _same,
    _linear: _linear,
    _one_row: lambda value: value[None],
    _conv: lambda value: np.transpose(value, (3, 2, 0, 1)),
    _conv1x1: lambda value: np.transpose(value)[:, :, None, None],
}


def checkpoint_tensors(model, architecture):
    """The model's weights as transformers' tensors: `load_weights` undone.

    Args:
        model: a model as `build_model` makes it, for `architecture`.
        architecture: str. One of `SUPPORTED_ARCHITECTURES`.

    Returns:
        A dict of transformers tensor name -> float32 NumPy array (and
        BatchNorm's update counter, which PyTorch keeps, at 0).
    """
    tensors = {
        name: np.ascontiguousarray(INVERSE_TRANSFORMS[transform](
            np.asarray(variable.numpy(), "float32")))
        for name, variable, transform in weight_pairs(model, architecture)
    }
    for name in list(tensors):
        if name.endswith(".running_mean"):
            counter = name.replace("running_mean", IGNORED_SUFFIXES[0])
            tensors[counter] = np.zeros((), "int64")
    return tensors


def weight_pairs(model, architecture):
    """`(tensor name, keras variable, transform)` for every weight."""
    encoder = model.encoder
    pairs = [("perceiver.embeddings.latents", encoder.latents, _same)]
    pairs += _layer_pairs(
        "perceiver.encoder.cross_attention", encoder.cross_attends[0],
        cross=True,
    )
    for index, layer in enumerate(
        encoder.latent_transformers[0].self_attends
    ):
        pairs += _layer_pairs(
            f"perceiver.encoder.self_attends.{index}", layer, cross=False
        )
    pairs += _adapter_pairs(architecture, encoder.input_adapter)
    if architecture == MULTIMODAL:
        return pairs + _multimodal_decoder_pairs(model)
    if architecture == MASKED_LM:
        decoder = "perceiver.decoder"
        pairs.append(("embedding_decoder.bias", model.output_bias, _same))
    else:
        decoder = "perceiver.decoder.decoder"
        pairs += _dense_pairs(
            f"{decoder}.final_layer", model.decoder.output_projection
        )
    if architecture != FLOW:  # Its queries are the inputs: no weights.
        pairs.append(
            (f"{decoder}.output_position_encodings.position_embeddings",
             model.output_queries.queries, _same)
        )
    pairs += _layer_pairs(
        f"{decoder}.decoding_cross_attention", model.decoder.cross_attention,
        cross=True,
    )
    return pairs


def _adapter_pairs(architecture, adapter):
    prefix = "perceiver.input_preprocessor"
    if architecture == LEARNED:
        return (
            [(f"{prefix}.convnet_1x1.weight", adapter.pixel_projection.kernel,
              _conv1x1),
             (f"{prefix}.convnet_1x1.bias", adapter.pixel_projection.bias,
              _same),
             (f"{prefix}.position_embeddings.position_embeddings",
              adapter.position_embeddings, _same)]
            + _dense_pairs(f"{prefix}.positions_projection",
                           adapter.position_projection)
        )
    if architecture == CONV:
        norm = adapter.batch_norm
        stem = f"{prefix}.convnet"
        return [
            (f"{stem}.conv.weight", adapter.conv.kernel, _conv),
            (f"{stem}.batchnorm.weight", norm.gamma, _same),
            (f"{stem}.batchnorm.bias", norm.beta, _same),
            (f"{stem}.batchnorm.running_mean", norm.moving_mean, _same),
            (f"{stem}.batchnorm.running_var", norm.moving_variance, _same),
        ]
    if architecture == FLOW:
        return _dense_pairs(f"{prefix}.conv_after_patches",
                            adapter.patch_projection)
    if architecture == MULTIMODAL:
        return (
            _embedding_pairs(prefix, "padding", adapter.paddings)
            + _embedding_pairs(prefix, "mask", adapter.mask_tokens)
        )
    if architecture in (TEXT_CLASSIFIER, MASKED_LM):
        return [
            (f"{prefix}.embeddings.weight", adapter.token_embeddings, _same),
            (f"{prefix}.position_embeddings.weight",
             adapter.position_embeddings, _same),
        ]
    return []


# Where transformers keeps the multimodal model's per-modality heads.
MULTIMODAL_HEADS = "perceiver.output_postprocessor.modalities"
# transformers' name of each modality (DeepMind's "image" is the video).
TRANSFORMERS_MODALITIES = {"audio": "audio", "video": "image",
                           "label": "label"}


def _multimodal_decoder_pairs(model):
    """The multimodal model's queries, shared decoder and heads."""
    decoder = "perceiver.decoder"
    queries = model.output_queries
    pairs = [
        (f"{decoder}.modalities.label.decoder.output_position_encodings."
         "position_embeddings", queries.label_query, _one_row),
    ]
    pairs += _embedding_pairs(decoder, "padding", queries.paddings)
    pairs += _dense_pairs(
        f"{decoder}.decoder.final_layer", model.decoder.output_projection
    )
    pairs += _layer_pairs(
        f"{decoder}.decoder.decoding_cross_attention",
        model.decoder.cross_attention, cross=True,
    )
    for name, head in model.heads.items():
        pairs += _dense_pairs(
            f"{MULTIMODAL_HEADS}.{TRANSFORMERS_MODALITIES[name]}.classifier",
            head,
        )
    return pairs


def _embedding_pairs(prefix, kind, vectors):
    """Per-modality vectors, stored by transformers as `(1, width)`."""
    return [
        (f"{prefix}.{kind}.{TRANSFORMERS_MODALITIES[name]}", vector,
         _one_row)
        for name, vector in vectors.items()
    ]


def _layer_pairs(prefix, layer, cross):
    """A transformers PerceiverLayer onto a CrossAttention/SelfAttention."""
    attention = f"{prefix}.attention"
    if cross:
        pairs = _norm_pairs(f"{attention}.self.layernorm1", layer.latent_norm)
        pairs += _norm_pairs(f"{attention}.self.layernorm2", layer.input_norm)
    else:
        pairs = _norm_pairs(
            f"{attention}.self.layernorm1", layer.attention_norm
        )
    dense = layer.attention
    pairs += _dense_pairs(f"{attention}.self.query", dense.query_dense)
    pairs += _dense_pairs(f"{attention}.self.key", dense.key_dense)
    pairs += _dense_pairs(f"{attention}.self.value", dense.value_dense)
    pairs += _dense_pairs(f"{attention}.output.dense", dense.output_dense)
    pairs += _norm_pairs(f"{prefix}.layernorm", layer.mlp_norm)
    pairs += _dense_pairs(f"{prefix}.mlp.dense1", layer.mlp.hidden_dense)
    pairs += _dense_pairs(f"{prefix}.mlp.dense2", layer.mlp.output_dense)
    return pairs


def _norm_pairs(prefix, norm):
    return [(f"{prefix}.weight", norm.gamma, _same),
            (f"{prefix}.bias", norm.beta, _same)]


def _dense_pairs(prefix, dense):
    return [(f"{prefix}.weight", dense.kernel, _linear),
            (f"{prefix}.bias", dense.bias, _same)]
