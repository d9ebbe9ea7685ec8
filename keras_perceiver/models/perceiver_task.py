import keras

from keras_perceiver.layers.perceiver_attention import AUTO_CHUNK_SIZE
from keras_perceiver.models.perceiver_encoder import check_encoder
from keras_perceiver.models.preset_methods import PresetMethods
from keras_perceiver.preprocessing.preprocessor import as_preprocessor
from keras_perceiver.preprocessing.preprocessor import serialized


class PerceiverTask(PresetMethods, keras.Model):
    """The base of the task models: a `PerceiverEncoder` and what reads it.

    A task (`Perceiver`, `PerceiverIO` and its subclasses) holds its encoder,
    the backbone that turns inputs into latents, as `encoder`, and adds
    what turns the latents into its outputs (a head, or output queries and
    a decoder). Its preprocessor, if it has one, turns raw items (files)
    into its inputs and is saved with it. This base holds the encoder and
    the preprocessor and gives every task the same inputs precision and
    attention maps; subclasses build the rest. `from_preset` and
    `save_to_preset` read and write presets, as keras-hub's tasks do.

    Args:
        encoder: `keras_perceiver.PerceiverEncoder`. The backbone.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or None
            (or its serialized form, or the settings dict of a
            `FilePreprocessor`). How raw items become the model's inputs;
            `predict` on files and export use it. Defaults to None.
        **kwargs: Base model keyword arguments, such as `name` and `dtype`.

    Attributes:
        encoder: the `PerceiverEncoder`.
        preprocessor: the `Preprocessor`, or None.

    Example:

    >>> class MeanLatent(PerceiverTask):
    ...     def call(self, inputs, mask=None, training=None):
    ...         latents = self.encoder(inputs, mask=mask, training=training)
    ...         return keras.ops.mean(latents, axis=(1, 2))
    >>> model = MeanLatent(PerceiverEncoder(
    ...     num_latents=8, latent_dim=16, num_blocks=1,
    ...     num_self_attends_per_block=1, num_self_heads=2, num_bands=4))
    >>> tuple(model(keras.random.uniform((2, 8, 8, 1))).shape)
    (2,)
    """

    def __init__(self, encoder, preprocessor=None, **kwargs):
        check_encoder(encoder)
        super().__init__(**kwargs)
        self.encoder = encoder
        self.preprocessor = as_preprocessor(preprocessor)

    @property
    def input_dtype(self):
        """Inputs keep full precision, as the encoder's do."""
        return self.dtype_policy.variable_dtype

    def cross_attention_maps(self, inputs, mask=None, chunk_size=None):
        """Attention of the latents over the inputs in the encoder's first
        cross-attend (see `PerceiverEncoder.cross_attention_maps`).

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int or None. None computes the matrix in one
                softmax, an int in chunks of that many inputs. Defaults to
                None.

        Returns:
            A tensor `(batch, num_cross_heads, N, M)` of attention
            probabilities.
        """
        return self.encoder.cross_attention_maps(inputs, mask, chunk_size)

    def cross_attention_map_chunks(self, inputs, mask=None,
                                   chunk_size=AUTO_CHUNK_SIZE):
        """`cross_attention_maps` streamed over chunks of the inputs, exact
        (see `PerceiverEncoder.cross_attention_map_chunks`).

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int. Inputs per chunk. Defaults to 4096.

        Returns:
            A generator of `(start, probabilities)`, `probabilities` of
            shape `(batch, num_cross_heads, N, chunk)`.
        """
        return self.encoder.cross_attention_map_chunks(
            inputs, mask, chunk_size
        )

    def mean_cross_attention_maps(self, inputs, latents, mask=None,
                                  chunk_size=AUTO_CHUNK_SIZE):
        """Some latents' maps averaged over heads, filled chunk by chunk
        (see `PerceiverEncoder.mean_cross_attention_maps`).

        Args:
            inputs: what the model's `call` takes.
            latents: list of ints. The latents whose maps to return.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int. Inputs per chunk. Defaults to 4096.

        Returns:
            A float32 NumPy array `(batch, len(latents), M)`.
        """
        return self.encoder.mean_cross_attention_maps(
            inputs, latents, mask, chunk_size
        )

    def compute_mask(self, *args, **kwargs):
        """The mask is consumed here: the outputs have no padding."""
        return None

    def get_config(self):
        config = super().get_config()
        config["preprocessor"] = serialized(self.preprocessor)
        return config


def input_adapter_of(encoder, adapter_class, reads):
    """The `input_adapter` of a task's encoder, which must be an
    `adapter_class`.

    For the tasks whose queries or outputs follow their adapter (optical
    flow, masked language modelling, multimodal autoencoding).

    Args:
        encoder: what the task was given as its encoder.
        adapter_class: the `keras_perceiver.adapters` class the task needs.
        reads: str. What the adapter reads, for the error message, e.g.
            `"frame pairs"`.

    Returns:
        The encoder's `input_adapter`.

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=8, latent_dim=16, num_blocks=1,
    ...     num_self_attends_per_block=1, num_self_heads=2,
    ...     input_adapter=adapters.TextAdapter(max_length=8, embedding_dim=8))
    >>> input_adapter_of(encoder, adapters.TextAdapter, "text").max_length
    8
    """
    check_encoder(encoder)
    adapter = encoder.input_adapter
    if not isinstance(adapter, adapter_class):
        raise ValueError(
            f"`encoder` must read {reads} through a "
            f"keras_perceiver.adapters.{adapter_class.__name__}. "
            f"Received: input_adapter={adapter!r}"
        )
    return adapter
