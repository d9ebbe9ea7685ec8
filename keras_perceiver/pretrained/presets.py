"""The published presets, and the handles `from_preset` reads through
`load_checkpoint`: names, `hf://` handles and Hugging Face folders."""

import os

from keras_perceiver.models import presets
from keras_perceiver.pretrained import conversion
from keras_perceiver.pretrained import files

HF_PREFIX = "hf://"
ACCURACY_SOURCE = (
    "reported by DeepMind (the Perceiver IO paper), not measured here"
)


def _preset(architecture, model, parameters, imagenet_top1=None):
    return {
        "architecture": architecture,
        "model": model,
        "parameters": parameters,
        "imagenet_top1": imagenet_top1,
        "accuracy_source": ACCURACY_SOURCE if imagenet_top1 else None,
    }


# The checkpoints DeepMind published on the Hub, by preset name (the Hub
# repository `deepmind/<name>`). Parameters: the full-size configurations
# built in keras-perceiver, equal to transformers' counts (tested).
PRESETS = {
    "vision-perceiver-fourier": _preset(
        conversion.FOURIER, "PerceiverIOClassifier", 48_440_627, 79.0),
    "vision-perceiver-learned": _preset(
        conversion.LEARNED, "PerceiverIOClassifier", 62_255_848, 72.7),
    "vision-perceiver-conv": _preset(
        conversion.CONV, "PerceiverIOClassifier", 48_646_522, 82.1),
    "language-perceiver": _preset(
        conversion.MASKED_LM, "PerceiverMaskedLM", 201_108_230),
    "optical-flow-perceiver": _preset(
        conversion.FLOW, "PerceiverOpticalFlow", 41_057_134),
    "multimodal-perceiver": _preset(
        conversion.MULTIMODAL, "PerceiverMultimodalAutoencoder", 19_858_855),
}


def list_presets():
    """The published presets that `from_preset` takes by name.

    Returns:
        A list of dicts, one per preset: `name` (what `from_preset`
        takes), `handle` (its `hf://` handle), `architecture` (the
        transformers class), `model` (the keras-perceiver class),
        `parameters` (trainable parameters), `imagenet_top1` (ImageNet
        top-1 accuracy in percent, None for the language, flow and
        multimodal models) and
        `accuracy_source` (the accuracies are DeepMind's reported figures,
        not measured here).

    Example:

    >>> [(preset["name"], preset["imagenet_top1"])
    ...  for preset in list_presets()][:2]
    [('vision-perceiver-fourier', 79.0), ('vision-perceiver-learned', 72.7)]
    """
    return [
        {"name": name, "handle": f"{HF_PREFIX}deepmind/{name}", **preset}
        for name, preset in PRESETS.items()
    ]


def read_checkpoint(preset, image_size=None):
    """The model of a preset name, an `hf://` handle or a Hugging Face
    folder (what `from_preset` reads besides preset folders).

    Args:
        preset: str or path-like. The handle.
        image_size: int, pair of ints or None. As for `load_checkpoint`.

    Returns:
        The model `load_checkpoint` gives.

    Example:

    >>> read_checkpoint("hf://deepmind/vision-perceiver-conv")
    """
    from keras_perceiver.pretrained.loading import load_checkpoint

    return load_checkpoint(_checkpoint_of(preset), image_size=image_size)


def _checkpoint_of(preset):
    """A folder or Hub id for `load_checkpoint`; raises for anything else."""
    if isinstance(preset, (str, os.PathLike)) and os.path.isdir(preset):
        if not files.has_weights(preset):
            raise ValueError(
                "The folder is neither a preset that save_to_preset wrote "
                f"(with {presets.METADATA_FILE}) nor a Hugging Face "
                f"checkpoint (with {files.CONFIG_FILE} and "
                f"{files.SAFETENSORS_FILE}). Received: preset={preset!r} "
                f"holding {sorted(os.listdir(preset))[:10]}"
            )
        return preset
    if isinstance(preset, str) and preset in PRESETS:
        return f"deepmind/{preset}"
    if isinstance(preset, str) and preset.startswith(HF_PREFIX) and (
        files.HUB_ID.match(preset[len(HF_PREFIX):])
    ):
        return preset[len(HF_PREFIX):]
    raise ValueError(
        f"Unknown preset: `preset` must be one of {list(PRESETS)}, a "
        "Hugging Face handle such as 'hf://deepmind/vision-perceiver-"
        "fourier', or a folder (a preset, or a Hugging Face checkpoint). "
        f"Received: preset={preset!r}"
    )


presets.set_checkpoint_reader(read_checkpoint)
