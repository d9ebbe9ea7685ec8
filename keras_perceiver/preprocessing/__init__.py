"""Preprocessing outside the model: the byte tokenizer of Perceiver IO's
language model."""

from keras_perceiver.preprocessing.byte_tokenizer import ByteTokenizer

__all__ = ["ByteTokenizer"]
