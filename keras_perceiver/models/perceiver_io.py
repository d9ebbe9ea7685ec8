import keras
import numpy as np
from keras import ops

from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.learned_queries import LearnedQueries
from keras_perceiver.layers.output_queries import OutputQueries
from keras_perceiver.layers.perceiver_decoder import PerceiverDecoder
from keras_perceiver.models.perceiver_task import PerceiverTask


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverIO(PerceiverTask):
    """Perceiver IO: an encoder, output queries and a decoder.

    The encoder turns the inputs into latents; the output queries (one per
    output element) cross-attend to them in the decoder, which gives each
    output its channels. Outputs may be anything queries can index: a class
    (`LearnedQueries(1, ...)`), every pixel of an output image
    (`FourierQueries((H, W))`), every input element (`InputQueries`: a
    label per point of a point cloud).

    Several outputs from one model: give `output_queries` as a dict of
    query layers of the same width (tell them apart with
    `task_embedding_channels`). Their queries are decoded together by the
    one decoder, as DeepMind's multimodal decoder does, and the model
    returns a dict of outputs with the same keys.

    Outputs on a grid (queries with an `index_shape`, such as
    `FourierQueries`) come as `(batch, *index_shape, channels)`, others as
    `(batch, O, channels)`.

    Args:
        encoder: `keras_perceiver.PerceiverEncoder`. Makes the latents.
        output_queries: an output-query layer from `keras_perceiver.layers`
            (`LearnedQueries`, `FourierQueries`, `InputQueries`), or a dict
            of them.
        decoder: `keras_perceiver.layers.PerceiverDecoder`. Decodes the
            queries into outputs.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or
            None. How raw items become the model's inputs, kept as
            `model.preprocessor` and saved with the model. Defaults to None.
        **kwargs: Base model keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: what the encoder takes.
        mask: optional boolean tensor `(batch, M)` over the byte array.
        training: Python bool, whether dropout is active.

    Returns:
        The outputs in float32 (a dict of them for a dict of queries).

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=16, latent_dim=32, num_blocks=2,
    ...     num_self_attends_per_block=1, num_self_heads=2, num_bands=4,
    ...     block_scheme="perceiver_io")
    >>> model = PerceiverIO(
    ...     encoder,
    ...     output_queries=layers.FourierQueries((8, 8), num_bands=4),
    ...     decoder=layers.PerceiverDecoder(num_output_channels=1,
    ...                                     use_query_residual=False))
    >>> tuple(model(keras.random.uniform((2, 8, 8, 1))).shape)
    (2, 8, 8, 1)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795)
    """

    def __init__(self, encoder, output_queries, decoder, preprocessor=None,
                 **kwargs):
        _check_queries(output_queries)
        if not isinstance(decoder, PerceiverDecoder):
            raise ValueError(
                "`decoder` must be a keras_perceiver.layers.PerceiverDecoder. "
                f"Received: decoder={decoder!r}"
            )
        super().__init__(encoder, preprocessor=preprocessor, **kwargs)
        self.output_queries = output_queries
        self.decoder = decoder

    def _named_queries(self):
        if isinstance(self.output_queries, dict):
            return dict(self.output_queries)
        return {None: self.output_queries}

    def build(self, input_shape):
        # Layers deserialized from a saved model come built already.
        if not self.encoder.built:
            self.encoder.build(input_shape)
        byte_array_shape = self.encoder.byte_array_shape
        widths = {}
        for name, queries in self._named_queries().items():
            if not queries.built:
                queries.build(byte_array_shape)
            _check_grid(name, queries, byte_array_shape)
            widths[name] = queries.num_channels(byte_array_shape)
        if len(set(widths.values())) > 1:
            raise ValueError(
                "`output_queries` of one decoder must all have the same "
                "width; give narrower ones a larger task embedding. "
                f"Received: widths {widths}"
            )
        queries_shape = (None, None, next(iter(widths.values())))
        latents_shape = (None, self.encoder.num_latents, self.encoder.latent_dim)
        if not self.decoder.built:
            self.decoder.build(queries_shape, latents_shape)

    def call(self, inputs, mask=None, training=None):
        byte_array, mask = self.encoder.encode_inputs(
            inputs, mask, training=training
        )
        latents = self.encoder.attend(byte_array, mask=mask, training=training)
        named = self._named_queries()
        queries = [layer(byte_array) for layer in named.values()]
        decoded = self.decoder(
            ops.concatenate(queries, axis=1) if len(queries) > 1
            else queries[0],
            latents,
            training=training,
        )
        decoded = ops.cast(decoded, self.dtype_policy.variable_dtype)
        sizes = [ops.shape(query)[1] for query in queries]
        outputs = {}
        start = 0
        for (name, layer), size in zip(named.items(), sizes):
            outputs[name] = _to_grid(
                decoded[:, start:start + size], layer.index_shape
            )
            start = start + size
        return outputs if isinstance(self.output_queries, dict) else outputs[None]

    def compute_output_shape(self, input_shape):
        byte_array_shape = byte_array_shape_for(self.encoder, input_shape)
        channels = self.decoder.num_output_channels
        shapes = {}
        for name, layer in self._named_queries().items():
            width = channels or layer.num_channels(byte_array_shape)
            grid = layer.index_shape or (layer.num_queries(byte_array_shape),)
            shapes[name] = (byte_array_shape[0],) + tuple(grid) + (width,)
        return shapes if isinstance(self.output_queries, dict) else shapes[None]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.layers.serialize(self.encoder),
                "output_queries": _serialize_queries(self.output_queries),
                "decoder": keras.layers.serialize(self.decoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            if key in config:
                config[key] = keras.layers.deserialize(config[key])
        if "output_queries" in config:
            config["output_queries"] = _deserialize_queries(
                config["output_queries"]
            )
        return cls(**config)


# The arguments of the models that build their own learned queries and
# decoder (`PerceiverIOClassifier`, `PerceiverMaskedLM`), each with the
# `PerceiverDecoder` argument it sets.
DECODER_ARGUMENTS = {
    "decoder_num_heads": "num_heads",
    "decoder_qk_channels": "qk_channels",
    "decoder_v_channels": "v_channels",
    "decoder_widening_factor": "widening_factor",
    "dropout": "dropout",
    "decoder_query_chunk_size": "query_chunk_size",
}


def learned_queries_and_decoder(model_arguments, num_queries, query_channels,
                                num_output_channels, use_query_residual):
    """The `LearnedQueries` and `PerceiverDecoder` of a model that builds
    them (`PerceiverIOClassifier`, `PerceiverMaskedLM`).

    Args:
        model_arguments: dict. The model's keyword arguments: those named in
            `DECODER_ARGUMENTS` set the decoder (the others keep
            `PerceiverDecoder`'s defaults), the rest are for the base model
            (`name`, `dtype`, ...).
        num_queries: int. Number of learned queries.
        query_channels: int. Width of each query.
        num_output_channels: int or None. The decoder's output width (None:
            no final projection).
        use_query_residual: bool. Whether the decoder adds its attention
            output to the queries.

    Returns:
        `(output_queries, decoder, base_arguments)`: the two layers, named
        as `PerceiverIO` saves them, and the model's other keyword
        arguments.

    Example:

    >>> queries, decoder, rest = learned_queries_and_decoder(
    ...     {"decoder_num_heads": 2, "name": "classifier"}, num_queries=1,
    ...     query_channels=32, num_output_channels=10,
    ...     use_query_residual=True)
    >>> decoder.num_heads, rest
    (2, {'name': 'classifier'})
    """
    decoder, base_arguments = decoder_from_arguments(
        model_arguments, num_output_channels, use_query_residual
    )
    output_queries = LearnedQueries(
        num_queries=num_queries, num_channels=query_channels,
        name="output_queries", dtype=base_arguments.get("dtype"),
    )
    return output_queries, decoder, base_arguments


def decoder_from_arguments(model_arguments, num_output_channels,
                           use_query_residual):
    """The `PerceiverDecoder` of a model that builds its own, and the
    model's other arguments.

    Args:
        model_arguments: dict. The model's keyword arguments: those named in
            `DECODER_ARGUMENTS` set the decoder (the others keep
            `PerceiverDecoder`'s defaults), the rest are for the base model.
        num_output_channels: int or None. The decoder's output width.
        use_query_residual: bool. Whether the decoder adds its attention
            output to the queries.

    Returns:
        `(decoder, base_arguments)`: the decoder, named "decoder", and the
        model's keyword arguments that are not the decoder's.

    Example:

    >>> decoder, rest = decoder_from_arguments(
    ...     {"decoder_query_chunk_size": 1024, "name": "flow"},
    ...     num_output_channels=2, use_query_residual=False)
    >>> decoder.query_chunk_size, rest
    (1024, {'name': 'flow'})
    """
    base_arguments = {name: value for name, value in model_arguments.items()
                      if name not in DECODER_ARGUMENTS}
    decoder = PerceiverDecoder(
        num_output_channels=num_output_channels,
        use_query_residual=use_query_residual,
        name="decoder",
        dtype=base_arguments.get("dtype"),
        **{DECODER_ARGUMENTS[name]: value
           for name, value in model_arguments.items()
           if name in DECODER_ARGUMENTS},
    )
    return decoder, base_arguments


def decoder_arguments(decoder):
    """The `DECODER_ARGUMENTS` that build `decoder`: what
    `PerceiverIOClassifier`, `PerceiverMaskedLM` and
    `PerceiverOpticalFlow` return from `get_config`."""
    return {name: getattr(decoder, attribute)
            for name, attribute in DECODER_ARGUMENTS.items()}


def byte_array_shape_for(encoder, input_shape):
    """The shape of the byte array a built encoder makes of `input_shape`."""
    if encoder.input_adapter is not None:
        byte_array_shape, _ = encoder.input_adapter.compute_output_shape(
            input_shape
        )
        return tuple(byte_array_shape)
    byte_array_shape, _ = split_masked_inputs(input_shape)
    return tuple(byte_array_shape)


def _check_queries(output_queries):
    named = (
        output_queries if isinstance(output_queries, dict)
        else {None: output_queries}
    )
    if not named or not all(
        isinstance(layer, OutputQueries) for layer in named.values()
    ):
        raise ValueError(
            "`output_queries` must be an output-query layer of "
            "keras_perceiver.layers (LearnedQueries, FourierQueries, "
            "InputQueries) or a non-empty dict of them. "
            f"Received: output_queries={output_queries!r}"
        )


def _deserialize_queries(queries):
    # A serialized layer names its class with a string; a dict of queries
    # maps names to serialized layers.
    if isinstance(queries.get("class_name"), str):
        return keras.layers.deserialize(queries)
    return {
        name: keras.layers.deserialize(query)
        for name, query in queries.items()
    }


def _serialize_queries(output_queries):
    if isinstance(output_queries, dict):
        return {
            name: keras.layers.serialize(layer)
            for name, layer in output_queries.items()
        }
    return keras.layers.serialize(output_queries)


def _check_grid(name, queries, byte_array_shape):
    """Raises unless a query layer's output grid matches its query count."""
    num_queries = queries.num_queries(byte_array_shape)
    if queries.index_shape is None or num_queries is None:
        return
    if int(np.prod(queries.index_shape)) != num_queries:
        where = "" if name is None else f" ({name!r})"
        raise ValueError(
            f"The output grid of `output_queries`{where} must have one point "
            f"per query ({num_queries}). Received: index_shape="
            f"{queries.index_shape}"
        )


def _to_grid(outputs, index_shape):
    if index_shape is None:
        return outputs
    batch = ops.shape(outputs)[0]
    return ops.reshape(
        outputs, (batch,) + tuple(index_shape) + (outputs.shape[-1],)
    )
