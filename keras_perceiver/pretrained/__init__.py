"""Hugging Face Perceiver checkpoints (DeepMind's weights) in keras-perceiver.

`load_checkpoint` turns a checkpoint folder in the Hugging Face layout, a
Hub id such as `"deepmind/vision-perceiver-fourier"`, or a transformers
model object into a keras-perceiver model with the same outputs;
`load_image_preprocessor` gives the image preprocessing the image
checkpoints expect, `load_flow_frames` the frame pairs the optical-flow
checkpoint takes. Reading folders needs `safetensors` (or PyTorch for
`pytorch_model.bin`), downloading needs `huggingface_hub`: the
`checkpoints` extra. transformers is never needed.

`list_presets` lists the published checkpoints that
`PerceiverTask.from_preset` and `PerceiverEncoder.from_preset` take by
name (or as `hf://deepmind/...` handles); `save_transformers_checkpoint`
writes a model, fine-tuned or not, back to the transformers layout.
"""

from keras_perceiver.pretrained.conversion import SUPPORTED_ARCHITECTURES
from keras_perceiver.pretrained.conversion import UNSUPPORTED_ARCHITECTURES
from keras_perceiver.pretrained.fine_tuning import checkpoint_image_size
from keras_perceiver.pretrained.fine_tuning import fine_tuning_classifier
from keras_perceiver.preprocessing.image_preprocessor import ImagePreprocessor
from keras_perceiver.preprocessing.image_preprocessor import load_image
from keras_perceiver.pretrained.flow_frames import load_flow_frames
from keras_perceiver.pretrained.loading import checkpoint_architecture
from keras_perceiver.pretrained.loading import classify_images
from keras_perceiver.pretrained.loading import convert_transformers_model
from keras_perceiver.pretrained.loading import load_checkpoint
from keras_perceiver.pretrained.loading import load_image_preprocessor
from keras_perceiver.pretrained.presets import list_presets
from keras_perceiver.pretrained.transformers_checkpoint import (
    save_transformers_checkpoint,
)

__all__ = [
    "ImagePreprocessor",
    "SUPPORTED_ARCHITECTURES",
    "UNSUPPORTED_ARCHITECTURES",
    "checkpoint_architecture",
    "checkpoint_image_size",
    "classify_images",
    "convert_transformers_model",
    "fine_tuning_classifier",
    "list_presets",
    "load_checkpoint",
    "load_flow_frames",
    "load_image",
    "load_image_preprocessor",
    "save_transformers_checkpoint",
]
