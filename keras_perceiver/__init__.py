"""keras-perceiver: the Perceiver (Jaegle et al., 2021) for Keras 3.

Runs on the TensorFlow, JAX and PyTorch backends; choose one with the
`KERAS_BACKEND` environment variable before importing keras.

`import keras_perceiver` loads the whole package, as a Keras library does:
every class is registered with Keras, so `keras.saving.load_model` reads a
saved model right after it. The `keras-perceiver` command
(`keras_perceiver_command`) is the exception: it imports the package before
it has parsed its arguments, so there each name below is imported on its
first use, and `--help` and argument errors answer before Keras loads.
"""

import sys

from keras_perceiver.optional_dependencies import names_loaded_on_use

__version__ = "0.1.0"

# The public names, each with the module it comes from.
_PUBLIC_NAMES = {
    "adapters": "keras_perceiver",
    "datasets": "keras_perceiver",
    "distribution": "keras_perceiver",
    "export": "keras_perceiver",
    "layers": "keras_perceiver",
    "modalities": "keras_perceiver",
    "models": "keras_perceiver",
    "performance": "keras_perceiver",
    "preprocessing": "keras_perceiver",
    "pretrained": "keras_perceiver",
    "reports": "keras_perceiver",
    "training": "keras_perceiver",
    "ByteTokenizer": "keras_perceiver.preprocessing.byte_tokenizer",
    "export_model": "keras_perceiver.export",
    "export_saved_model": "keras_perceiver.export",
    "load_checkpoint": "keras_perceiver.pretrained",
    "Perceiver": "keras_perceiver.models.perceiver",
    "PerceiverCausalLM": "keras_perceiver.models.perceiver_causal_lm",
    "PerceiverEncoder": "keras_perceiver.models.perceiver_encoder",
    "PerceiverIO": "keras_perceiver.models.perceiver_io",
    "PerceiverIOClassifier": "keras_perceiver.models.perceiver_io_classifier",
    "PerceiverMaskedLM": "keras_perceiver.models.perceiver_masked_lm",
    "PerceiverMultimodalAutoencoder": (
        "keras_perceiver.models.perceiver_multimodal_autoencoder"
    ),
    "PerceiverOpticalFlow": "keras_perceiver.models.perceiver_optical_flow",
}


__all__ = sorted(_PUBLIC_NAMES)
__getattr__, __dir__ = names_loaded_on_use(__name__, _PUBLIC_NAMES)


def _imported_by_the_command():
    """Whether the `keras-perceiver` command is importing the package (it
    loads what a subcommand needs once the arguments are parsed, and
    registers the classes before it loads a saved model). A process that
    imported `keras_perceiver_command` first gets the deferred package:
    there, `import keras_perceiver.models` registers the classes."""
    return "keras_perceiver_command" in sys.modules


if not _imported_by_the_command():
    for _name in _PUBLIC_NAMES:
        globals()[_name] = __getattr__(_name)
