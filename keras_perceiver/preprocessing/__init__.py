"""Preprocessing: raw items in, a model's inputs out.

A `Preprocessor` says how raw items become a model's inputs, and a task
model keeps one as `model.preprocessor`, saved in its `.keras` file:
`FilePreprocessor` reads files as the training data were read (set from
`keras_perceiver.datasets`' data read from files), `ImagePreprocessor` is
Hugging Face's image processing for converted image checkpoints (set by
`keras_perceiver.pretrained.load_checkpoint`). `ByteTokenizer` gives the
token ids of Perceiver IO's language model.
"""

from keras_perceiver.preprocessing.byte_tokenizer import ByteTokenizer
from keras_perceiver.preprocessing.file_preprocessor import FilePreprocessor
from keras_perceiver.preprocessing.image_preprocessor import ImagePreprocessor
from keras_perceiver.preprocessing.image_preprocessor import load_image
from keras_perceiver.preprocessing.preprocessor import Preprocessor
from keras_perceiver.preprocessing.preprocessor import as_preprocessor

__all__ = [
    "ByteTokenizer",
    "FilePreprocessor",
    "ImagePreprocessor",
    "Preprocessor",
    "as_preprocessor",
    "load_image",
]
