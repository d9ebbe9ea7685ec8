"""Perceiver building blocks, usable on their own."""

from keras_perceiver.layers.attention_block import AttentionBlock
from keras_perceiver.layers.causal_mask import causal_mask
from keras_perceiver.layers.cross_attention import CrossAttention
from keras_perceiver.layers.feed_forward import FeedForward
from keras_perceiver.layers.fourier_position_encoding import (
    FourierPositionEncoding,
)
from keras_perceiver.layers.latent_transformer import LatentTransformer
from keras_perceiver.layers.perceiver_attention import PerceiverAttention
from keras_perceiver.layers.self_attention import SelfAttention
from keras_perceiver.layers.fourier_queries import FourierQueries
from keras_perceiver.layers.input_queries import InputQueries
from keras_perceiver.layers.learned_queries import LearnedQueries
from keras_perceiver.layers.multimodal_queries import MultimodalQueries
from keras_perceiver.layers.output_queries import OutputQueries
from keras_perceiver.layers.perceiver_decoder import PerceiverDecoder

__all__ = [
    "AttentionBlock",
    "CrossAttention",
    "FeedForward",
    "FourierPositionEncoding",
    "FourierQueries",
    "InputQueries",
    "LatentTransformer",
    "LearnedQueries",
    "MultimodalQueries",
    "OutputQueries",
    "PerceiverAttention",
    "PerceiverDecoder",
    "SelfAttention",
    "causal_mask",
]
