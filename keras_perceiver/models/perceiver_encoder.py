import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.image_adapter import ImageAdapter
from keras_perceiver.adapters.input_adapter import split_masked_inputs
from keras_perceiver.layers.chunked_attention import maps_averaged_over_heads
from keras_perceiver.layers.cross_attention import CrossAttention
from keras_perceiver.layers.initializers import initializer_or_default
from keras_perceiver.layers.latent_transformer import LatentTransformer
from keras_perceiver.layers.perceiver_attention import AUTO_CHUNK_SIZE
from keras_perceiver.models.preset_methods import PresetMethods

WEIGHT_SHARING_CHOICES = ("paper", "none", "all")
CROSS_ATTEND_PLACEMENTS = ("interleaved", "start")
BLOCK_SCHEMES = ("iterative", "perceiver_io")


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverEncoder(PresetMethods, keras.Model):
    """The Perceiver encoder: inputs to a latent array `(batch, N, D)`.

    A learned latent array of `num_latents` x `latent_dim` (N x D) attends to
    the input byte array (M x C) and is refined by latent Transformers of
    `num_self_attends_per_block` (L) self-attention layers. The result, the
    final latents, is what every Perceiver model reads: `Perceiver` averages
    them into logits, the Perceiver IO models decode them with output
    queries.

    Two block schemes:
    - `"iterative"` (the Perceiver paper, the default): `num_blocks` (B)
      blocks, each a cross-attend followed by the latent Transformer.
      Weight sharing follows the paper by default (`"paper"`): the first
      cross-attend has its own weights, cross-attends 2..B share one set,
      and one latent Transformer is shared by all blocks, making the model
      an RNN unrolled in depth. `"none"` gives every block its own weights
      and `"all"` shares the first cross-attend too.
      `cross_attend_placement="start"` puts all B cross-attends first.
    - `"perceiver_io"` (Perceiver IO): one cross-attend, then the latent
      Transformer applied `num_blocks` times with the same weights
      (`weight_sharing="none"` gives each application its own).

    Inputs may be:
    - images `(batch, H, W, C)`: 2-D Fourier features of the pixel positions
      are concatenated to the pixels (`num_bands`, `max_resolution`);
    - a byte array `(batch, M, C)` that already carries its position
      features, with an optional mask `(batch, M)` (True = real element),
      given as `mask=` or as the dict `{"inputs": ..., "mask": ...}` (the
      form to use with `model.fit`);
    - anything an `input_adapter` accepts: the adapter turns it into the
      byte array and mask.

    `PerceiverEncoder.from_preset(preset)` gives the encoder of a preset
    (a published checkpoint, or a task's or encoder's `save_to_preset`
    folder), keras-hub's backbone; see `PresetMethods`.

    Large inputs (M in the millions) are cross-attended in chunks of
    `input_chunk_size` inputs with an online softmax and recomputed chunk by
    chunk in the backward pass, so that memory does not grow with
    `num_heads * N * M` (see `PerceiverAttention`). Cross-attends 2..B
    share their weights in the paper's scheme and read the same byte array,
    so while the inputs are not chunked their input LayerNorm and key/value
    projections are computed once per forward pass and shared (the same
    result as computing them in every block).

    Args:
        num_latents: int. Number of latents N. Defaults to 512.
        latent_dim: int. Latent width D. Defaults to 1024.
        num_blocks: int. Number of blocks B. Defaults to 8.
        num_self_attends_per_block: int. Self-attention layers L in each
            latent Transformer. Defaults to 6.
        num_cross_heads: int. Cross-attention heads. Defaults to 1.
        num_self_heads: int. Self-attention heads. Defaults to 8.
        cross_qk_channels: int or None. Cross-attention query/key width.
            Defaults to None, meaning the input channel count C.
        cross_v_channels: int or None. Cross-attention value width.
            Defaults to None, meaning the query/key width.
        self_qk_channels: int or None. Self-attention query/key width.
            Defaults to None, meaning D.
        self_v_channels: int or None. Self-attention value width. Defaults
            to None, meaning the query/key width.
        cross_widening_factor: int. Cross-attend MLP widening. Defaults to 1.
        self_widening_factor: int. Self-attention MLP widening. Defaults to 1.
        num_bands: int. Fourier bands per axis for image inputs.
            Defaults to 64.
        max_resolution: int, pair of ints or None. Maximum resolution of each
            image axis for the Fourier features. Defaults to None, meaning
            the image height and width.
        weight_sharing: str. `"paper"`, `"none"` or `"all"`, as above.
            Defaults to `"paper"`.
        cross_attend_placement: str. `"interleaved"` (a cross-attend before
            every latent Transformer) or `"start"` (all B cross-attends
            first, then B latent Transformers: the paper's Table 6 ablation).
            Has no effect with one cross-attend. Defaults to `"interleaved"`.
        block_scheme: str. `"iterative"` or `"perceiver_io"`, as above.
            Defaults to `"iterative"`.
        cross_use_query_residual: bool. Whether the cross-attends add their
            output to the latents. Defaults to True (both papers).
        dropout: float. Dropout rate on every attention and MLP output.
            Defaults to 0 (the paper's final ImageNet model).
        input_chunk_size: int or None. Inputs per chunk of the
            cross-attention; a size at least M means no chunks. Defaults to
            None, which picks it: the whole byte array while
            `num_cross_heads * num_latents * M` is at most 2**22 (M <=
            32,768 for 128 latents and one head), chunks of 4096 inputs
            above.
        latent_initializer: initializer for the latent array. Defaults to a
            truncated normal with standard deviation 0.02, truncated at two
            standard deviations.
        input_adapter: optional `keras.layers.Layer` whose call returns
            `(byte_array, mask)`, e.g. one of `keras_perceiver.adapters`.
            Defaults to None: images and byte arrays as above.
        **kwargs: Base model keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: images, a byte array, a dict `{"inputs", "mask"}`, or what
            the `input_adapter` takes.
        mask: optional boolean tensor `(batch, M)` over the byte array.
        training: Python bool, whether dropout is active.

    Returns:
        The final latents, shape `(batch, num_latents, latent_dim)`, in the
        compute dtype.

    Example:

    >>> encoder = PerceiverEncoder(num_latents=32, latent_dim=64,
    ...                            num_blocks=2, num_self_attends_per_block=2,
    ...                            num_self_heads=4, num_bands=8,
    ...                            block_scheme="perceiver_io")
    >>> tuple(encoder(keras.random.uniform((2, 28, 28, 1))).shape)
    (2, 32, 64)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206)
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795)
    """

    def __init__(
        self,
        num_latents=512,
        latent_dim=1024,
        num_blocks=8,
        num_self_attends_per_block=6,
        num_cross_heads=1,
        num_self_heads=8,
        cross_qk_channels=None,
        cross_v_channels=None,
        self_qk_channels=None,
        self_v_channels=None,
        cross_widening_factor=1,
        self_widening_factor=1,
        num_bands=64,
        max_resolution=None,
        weight_sharing="paper",
        cross_attend_placement="interleaved",
        block_scheme="iterative",
        cross_use_query_residual=True,
        dropout=0.0,
        latent_initializer=None,
        input_adapter=None,
        input_chunk_size=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check = argument_checks.check_positive_int
        self.num_latents = check("num_latents", num_latents)
        self.latent_dim = check("latent_dim", latent_dim)
        self.num_blocks = check("num_blocks", num_blocks)
        self.num_self_attends_per_block = check(
            "num_self_attends_per_block", num_self_attends_per_block
        )
        self.num_cross_heads = check("num_cross_heads", num_cross_heads)
        self.num_self_heads = check("num_self_heads", num_self_heads)
        optional = argument_checks.check_optional_positive_int
        self.cross_qk_channels = optional(
            "cross_qk_channels", cross_qk_channels
        )
        self.cross_v_channels = optional("cross_v_channels", cross_v_channels)
        self.self_qk_channels = optional("self_qk_channels", self_qk_channels)
        self.self_v_channels = optional("self_v_channels", self_v_channels)
        self.cross_widening_factor = check(
            "cross_widening_factor", cross_widening_factor
        )
        self.self_widening_factor = check(
            "self_widening_factor", self_widening_factor
        )
        self._check_head_widths(
            "num_self_heads", self.self_qk_channels or self.latent_dim
        )
        self.num_bands = check("num_bands", num_bands)
        self.max_resolution = argument_checks.freeze_resolution(max_resolution)
        self.weight_sharing = argument_checks.check_choice(
            "weight_sharing", weight_sharing, WEIGHT_SHARING_CHOICES
        )
        self.cross_attend_placement = argument_checks.check_choice(
            "cross_attend_placement",
            cross_attend_placement,
            CROSS_ATTEND_PLACEMENTS,
        )
        self.block_scheme = argument_checks.check_choice(
            "block_scheme", block_scheme, BLOCK_SCHEMES
        )
        self.cross_use_query_residual = argument_checks.check_bool(
            "cross_use_query_residual", cross_use_query_residual
        )
        self.dropout = argument_checks.check_fraction("dropout", dropout)
        self.input_chunk_size = argument_checks.check_optional_positive_int(
            "input_chunk_size", input_chunk_size
        )
        self.latent_initializer = initializer_or_default(latent_initializer)
        self.input_adapter = input_adapter
        # True once `build` adds the default ImageAdapter, which the config
        # leaves out (the model adds it again when rebuilt).
        self._adapter_is_default = False
        self.cross_attends = [
            self._cross_attend(index)
            for index in range(self._num_unique_cross_attends())
        ]
        self.latent_transformers = [
            self._latent_transformer(index)
            for index in range(self._num_unique_latent_transformers())
        ]

    @property
    def input_dtype(self):
        """Inputs keep full precision: adapters compute positions in float32.

        Every input path casts to the compute dtype itself.
        """
        return self.dtype_policy.variable_dtype

    @property
    def num_cross_attends(self):
        """How many cross-attends a forward pass runs (B, or 1 for IO)."""
        return 1 if self.block_scheme == "perceiver_io" else self.num_blocks

    def _check_head_widths(self, heads_name, qk_channels):
        """Raises unless the heads split the attention widths evenly."""
        prefix = heads_name.split("_")[1]
        v_channels = getattr(self, f"{prefix}_v_channels") or qk_channels
        num_heads = getattr(self, heads_name)
        for width_name, width in (("qk", qk_channels), ("v", v_channels)):
            if width % num_heads:
                raise ValueError(
                    f"`{heads_name}` must divide the {prefix}-attention "
                    f"{width_name} width ({width}, from "
                    f"`{prefix}_{width_name}_channels` or its default). "
                    f"Received: {heads_name}={num_heads}"
                )

    def _cross_attend(self, index):
        return CrossAttention(
            num_heads=self.num_cross_heads,
            qk_channels=self.cross_qk_channels,
            v_channels=self.cross_v_channels,
            widening_factor=self.cross_widening_factor,
            dropout=self.dropout,
            use_query_residual=self.cross_use_query_residual,
            input_chunk_size=self.input_chunk_size,
            name=f"cross_attention_{index}",
            dtype=self.dtype_policy,
        )

    def _latent_transformer(self, index):
        return LatentTransformer(
            num_layers=self.num_self_attends_per_block,
            num_heads=self.num_self_heads,
            qk_channels=self.self_qk_channels,
            v_channels=self.self_v_channels,
            widening_factor=self.self_widening_factor,
            dropout=self.dropout,
            name=f"latent_transformer_{index}",
            dtype=self.dtype_policy,
        )

    def _num_unique_cross_attends(self):
        if self.weight_sharing == "none":
            return self.num_cross_attends
        if self.weight_sharing == "all":
            return 1
        return min(self.num_cross_attends, 2)

    def _num_unique_latent_transformers(self):
        return self.num_blocks if self.weight_sharing == "none" else 1

    def cross_attend_for_block(self, block):
        """The `CrossAttention` layer that block `block` (0-based) uses."""
        index = min(block, len(self.cross_attends) - 1)
        return self.cross_attends[index]

    def latent_transformer_for_block(self, block):
        """The `LatentTransformer` layer that block `block` (0-based) uses."""
        index = min(block, len(self.latent_transformers) - 1)
        return self.latent_transformers[index]

    def build(self, input_shape):
        if self.input_adapter is None and _is_image_shape(input_shape):
            self.input_adapter = ImageAdapter(
                num_bands=self.num_bands,
                max_resolution=self.max_resolution,
                name="image_adapter",
                dtype=self.dtype_policy,
            )
            self._adapter_is_default = True
        if self.input_adapter is not None:
            # An adapter deserialized from a saved model comes built.
            if not self.input_adapter.built:
                self.input_adapter.build(input_shape)
            byte_array_shape, _ = self.input_adapter.compute_output_shape(
                input_shape
            )
        else:
            byte_array_shape = _byte_array_shape(input_shape)
        self.byte_array_shape = tuple(byte_array_shape)
        self._check_head_widths(
            "num_cross_heads", self.cross_qk_channels or byte_array_shape[-1]
        )
        self.latents = self.add_weight(
            shape=(self.num_latents, self.latent_dim),
            initializer=self.latent_initializer,
            name="latents",
        )
        latents_shape = (None, self.num_latents, self.latent_dim)
        for layer in self.cross_attends:
            layer.build(latents_shape, byte_array_shape)
        for layer in self.latent_transformers:
            layer.build(latents_shape)

    def call(self, inputs, mask=None, training=None):
        byte_array, mask = self.encode_inputs(inputs, mask, training=training)
        return self.attend(byte_array, mask=mask, training=training)

    def attend(self, byte_array, mask=None, training=None):
        """The final latents for a byte array that `encode_inputs` made.

        Models that need the byte array too (Perceiver IO queries built from
        the input positions) call `encode_inputs`, then this.

        Args:
            byte_array: Tensor of shape `(batch, M, C)`.
            mask: optional boolean tensor `(batch, M)`.
            training: Python bool, whether dropout is active.

        Returns:
            The latents, shape `(batch, num_latents, latent_dim)`.
        """
        latents = self._initial_latents(ops.shape(byte_array)[0])
        projected = self._shared_projected_inputs(byte_array)
        for kind, block in self._block_order():
            if kind == "cross":
                cross = self.cross_attend_for_block(block)
                latents = cross(
                    latents,
                    byte_array,
                    mask=mask,
                    training=training,
                    projected_inputs=projected.get(id(cross)),
                )
            else:
                latents = self.latent_transformer_for_block(block)(
                    latents, training=training
                )
        return latents

    # Whether cross-attends called more than once share their projections.
    _share_projected_inputs = True

    def _shared_projected_inputs(self, byte_array):
        """Input LayerNorm and keys/values of cross-attends run 2+ times.

        Returns a dict from `id(layer)` to `layer.project_inputs(...)` for
        every cross-attend layer that the forward pass calls more than
        once (cross-attends 2..B with the paper's weight sharing) and that
        does not split these inputs into chunks; with chunks, every call
        recomputes them chunk by chunk, which keeps memory bounded.
        """
        if not self._share_projected_inputs:
            return {}
        layers = [
            self.cross_attend_for_block(block)
            for kind, block in self._block_order()
            if kind == "cross"
        ]
        unique = {id(layer): layer for layer in layers}
        return {
            key: layer.project_inputs(byte_array)
            for key, layer in unique.items()
            if layers.count(layer) > 1
            and not layer.uses_chunks(self.num_latents, byte_array.shape[1])
        }

    def _initial_latents(self, batch_size):
        latents = ops.cast(self.latents, self.compute_dtype)
        return ops.broadcast_to(
            latents[None], (batch_size, self.num_latents, self.latent_dim)
        )

    def _block_order(self):
        """The forward pass as `("cross" | "latent", block)` steps."""
        blocks = range(self.num_blocks)
        latent_steps = [("latent", i) for i in blocks]
        if self.block_scheme == "perceiver_io":
            return [("cross", 0)] + latent_steps
        if self.cross_attend_placement == "start":
            return [("cross", i) for i in blocks] + latent_steps
        return [step for i in blocks for step in (("cross", i), ("latent", i))]

    def encode_inputs(self, inputs, mask=None, training=None):
        """Returns the `(byte_array, mask)` that the cross-attends see.

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            training: Python bool. Whether the input adapter trains (batch
                statistics, augmentation, modality dropout). Passed on
                explicitly: `Model.stateless_call`, which JAX's `fit` uses,
                calls `call` without setting Keras' call context.

        Returns:
            A tuple of the byte array `(batch, M, C)` and the mask
            `(batch, M)` or None.
        """
        if not self.built:
            raise ValueError(
                "`encode_inputs` needs a built model: call the model on data "
                f"or `build()` it first. Received: an unbuilt {self.name}"
            )
        if self.input_adapter is not None:
            byte_array, mask = self.input_adapter(
                inputs, mask=mask, training=training
            )
        else:
            inputs, mask = split_masked_inputs(inputs, mask)
            _check_byte_array(inputs, mask, self.byte_array_shape)
            byte_array = ops.cast(inputs, self.compute_dtype)
        if mask is None:
            return byte_array, None
        # Masked elements become zeros: padding holding NaN or inf would
        # otherwise reach the outputs (0 * NaN is NaN in the attention).
        mask = ops.cast(mask, "bool")
        byte_array = ops.where(mask[..., None], byte_array,
                               ops.zeros_like(byte_array))
        return byte_array, mask

    def cross_attention_maps(self, inputs, mask=None, chunk_size=None):
        """Attention of the latents over the inputs in the first cross-attend.

        The whole matrix, for inputs small enough that it fits in memory;
        `cross_attention_map_chunks` and `mean_cross_attention_maps` give
        maps of larger inputs chunk by chunk.

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int or None. None computes the matrix in one
                softmax; an int computes it from `cross_attention_map_chunks`
                of that many inputs (float32), without the whole logit
                matrix beside it. Defaults to None.

        Returns:
            A tensor `(batch, num_cross_heads, N, M)` of attention
            probabilities: row `n` says where latent `n` looks in the byte
            array (for images, reshape `M` to `(H, W)`).

        Example:

        >>> maps = encoder.cross_attention_maps(images)  # doctest: +SKIP
        >>> maps.shape  # (batch, heads, latents, pixels)  # doctest: +SKIP
        (2, 1, 256, 784)
        """
        if chunk_size is not None:
            chunks = self.cross_attention_map_chunks(inputs, mask, chunk_size)
            return ops.concatenate([maps for _, maps in chunks], axis=-1)
        byte_array, mask = self.encode_inputs(inputs, mask)
        latents = self._initial_latents(ops.shape(byte_array)[0])
        cross = self.cross_attend_for_block(0)
        return cross.attention_weights(latents, byte_array, mask)

    def cross_attention_map_chunks(self, inputs, mask=None,
                                   chunk_size=AUTO_CHUNK_SIZE):
        """`cross_attention_maps` streamed over chunks of the inputs.

        Each chunk holds the exact probabilities of the whole matrix's
        slice: a first pass over the chunks computes each latent's softmax
        normaliser, a second yields the chunks. Only the byte array and
        one chunk's logits exist at a time, never a `(N, M)` matrix, so
        maps of a million inputs can be drawn.

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int. Inputs per chunk (the last one may be
                shorter). Defaults to 4096.

        Returns:
            A generator of `(start, probabilities)`: `probabilities` is a
            float32 tensor `(batch, num_cross_heads, N, chunk)`, the
            attention over inputs `start` to `start + chunk`.

        Example:

        >>> for start, maps in encoder.cross_attention_map_chunks(
        ...         images, chunk_size=1024):  # doctest: +SKIP
        ...     print(start, tuple(maps.shape))
        0 (2, 1, 256, 1024)
        """
        return self._map_chunks(inputs, mask, chunk_size)

    def _map_chunks(self, inputs, mask, chunk_size, latents=None):
        """`cross_attention_map_chunks` of the latents `latents` (indices;
        None: all of them). A latent's softmax is over its own row, so the
        rows of the others are never computed."""
        chunk_size = argument_checks.check_positive_int(
            "chunk_size", chunk_size
        )
        byte_array, mask = self.encode_inputs(inputs, mask)
        queries = self._initial_latents(ops.shape(byte_array)[0])
        if latents is not None:
            queries = ops.take(queries, latents, axis=1)
        cross = self.cross_attend_for_block(0)
        return cross.attention_weight_chunks(
            queries, byte_array, chunk_size, mask
        )

    def mean_cross_attention_maps(self, inputs, latents, mask=None,
                                  chunk_size=AUTO_CHUNK_SIZE):
        """Some latents' attention maps averaged over heads, as NumPy.

        What a drawing needs, filled chunk by chunk as
        `cross_attention_map_chunks` does, but for the chosen latents only
        (a latent's map needs no other's row): memory for their maps and
        one chunk, never the whole `(heads, N, M)` matrix.

        Args:
            inputs: what the model's `call` takes.
            latents: list of ints. The latents whose maps to return, each
                in `[0, num_latents)`.
            mask: optional boolean tensor `(batch, M)`.
            chunk_size: int. Inputs per chunk. Defaults to 4096.

        Returns:
            A float32 NumPy array `(batch, len(latents), M)`: row `i` is
            the attention of latent `latents[i]` over the inputs, averaged
            over the cross-attend's heads.

        Example:

        >>> maps = encoder.mean_cross_attention_maps(
        ...     images, latents=[0, 5])  # doctest: +SKIP
        >>> maps.shape  # (batch, latents, pixels)  # doctest: +SKIP
        (2, 2, 784)
        """
        latents = argument_checks.check_indices(
            "latents", latents, self.num_latents
        )
        return maps_averaged_over_heads(
            self._map_chunks(inputs, mask, chunk_size, latents)
        )

    def compute_mask(self, *args, **kwargs):
        """The mask is consumed here: the output has no padding."""
        return None

    def compute_output_shape(self, input_shape):
        return (_batch_size_of(input_shape), self.num_latents, self.latent_dim)

    def get_config(self):
        config = super().get_config()
        adapter = None
        if self.input_adapter is not None and not self._adapter_is_default:
            adapter = keras.layers.serialize(self.input_adapter)
        config.update(
            {
                "num_latents": self.num_latents,
                "latent_dim": self.latent_dim,
                "num_blocks": self.num_blocks,
                "num_self_attends_per_block": self.num_self_attends_per_block,
                "num_cross_heads": self.num_cross_heads,
                "num_self_heads": self.num_self_heads,
                "cross_qk_channels": self.cross_qk_channels,
                "cross_v_channels": self.cross_v_channels,
                "self_qk_channels": self.self_qk_channels,
                "self_v_channels": self.self_v_channels,
                "cross_widening_factor": self.cross_widening_factor,
                "self_widening_factor": self.self_widening_factor,
                "num_bands": self.num_bands,
                "max_resolution": self.max_resolution,
                "weight_sharing": self.weight_sharing,
                "cross_attend_placement": self.cross_attend_placement,
                "block_scheme": self.block_scheme,
                "cross_use_query_residual": self.cross_use_query_residual,
                "dropout": self.dropout,
                "latent_initializer": keras.initializers.serialize(
                    self.latent_initializer
                ),
                "input_adapter": adapter,
                "input_chunk_size": self.input_chunk_size,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("input_adapter") is not None:
            config["input_adapter"] = keras.layers.deserialize(
                config["input_adapter"]
            )
        config["latent_initializer"] = keras.initializers.deserialize(
            config["latent_initializer"]
        )
        return cls(**config)


def check_encoder(encoder):
    """Raises unless `encoder` is a `PerceiverEncoder`: a task's backbone.

    Args:
        encoder: what a task model was given as its encoder.

    Example:

    >>> check_encoder(keras.layers.Dense(4))
    Traceback (most recent call last):
    ...
    ValueError: `encoder` must be a keras_perceiver.PerceiverEncoder ...
    """
    if not isinstance(encoder, PerceiverEncoder):
        raise ValueError(
            "`encoder` must be a keras_perceiver.PerceiverEncoder, such as "
            "a task model's `encoder` (not the task with its head). "
            f"Received: encoder={encoder!r}"
        )


def encoder_of(model):
    """The `PerceiverEncoder` that reads a model's inputs.

    Every task model (`Perceiver`, `PerceiverIO` and its subclasses) holds
    its encoder as `encoder`; an encoder is its own.

    Args:
        model: a keras-perceiver model or encoder.

    Returns:
        The model's `PerceiverEncoder`.

    Example:

    >>> encoder_of(model).input_adapter  # doctest: +SKIP
    """
    return model if isinstance(model, PerceiverEncoder) else model.encoder


def _is_image_shape(input_shape):
    return not isinstance(input_shape, dict) and len(input_shape) == 4


def _byte_array_shape(input_shape):
    input_shape, _ = split_masked_inputs(input_shape)
    argument_checks.check_rank("inputs", input_shape, (3, 4))
    if input_shape[-1] is None:
        raise ValueError(
            "`inputs` must have a known channel count (last dimension). "
            f"Received: inputs.shape={tuple(input_shape)}"
        )
    return input_shape


def _check_byte_array(byte_array, mask, built_shape):
    argument_checks.check_rank("inputs", byte_array.shape, (3,))
    if byte_array.shape[-1] != built_shape[-1]:
        raise ValueError(
            f"`inputs` must have {built_shape[-1]} channels, as the model was "
            f"built with. Received: inputs.shape={tuple(byte_array.shape)}"
        )
    if mask is None:
        return
    expected = tuple(byte_array.shape[:2])
    if len(mask.shape) != 2 or not _shapes_match(mask.shape, expected):
        raise ValueError(
            "`mask` must have shape (batch, M) matching the byte array, "
            f"{expected}. Received: mask.shape={tuple(mask.shape)}"
        )


def _shapes_match(shape, expected):
    return all(
        a is None or b is None or a == b for a, b in zip(shape, expected)
    )


def _batch_size_of(input_shape):
    while isinstance(input_shape, dict):
        input_shape = next(iter(input_shape.values()))
    return input_shape[0]
