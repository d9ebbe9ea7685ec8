import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.input_adapter import as_bool_mask
from keras_perceiver.layers.initializers import initializer_or_default


@keras.saving.register_keras_serializable(package="keras_perceiver")
class MultimodalAdapter(InputAdapter):
    """Encodes a dict of modalities into one byte array, as for audio+video.

    Each modality is encoded by its own adapter; its byte array is padded
    with zeros to a common channel count, a learned modality embedding
    (one vector per modality) is concatenated to every element, and the
    modalities are concatenated along the index axis in the order of
    `adapters`: the paper's AudioSet audio+video model.

    Inputs are a dict keyed by modality whose entries are exactly what each
    adapter takes on its own, so a padded modality carries its mask in a
    nested dict:

    ```python
    {"audio": {"inputs": padded_waveforms, "mask": sample_mask},
     "video": videos}
    ```

    (The `mask=` call argument may also be a dict keyed by modality.) The
    output mask covers every element: a modality's own mask, or all True.

    Missing modalities: a modality listed in `optional_modalities` may be
    left out of the dict; its elements are then zeros and fully masked, so
    the cross-attention ignores them, and a model trained on all modalities
    still predicts. Leaving out any other modality raises. Every modality
    must be present when the adapter is built.

    Modality dropout: in training, each sample loses a modality with the
    probability given in `modality_dropout` (its elements are masked), as
    the paper drops 30 % of the videos. It uses `keras.random` with a seed
    generator, so it works in compiled training on every backend. A sample
    can lose every modality if each has a rate; its cross-attention then
    attends to nothing and adds zeros (not NaNs) to the latents.

    Args:
        adapters: dict mapping modality names (str) to input adapters, e.g.
            `{"audio": AudioAdapter(), "video": VideoAdapter()}`.
        num_channels: int or None. Common channel count the modalities are
            padded to, before the embedding. Defaults to None, meaning the
            widest modality's channel count.
        modality_embedding_dim: int. Width of the learned modality
            embedding. Defaults to 4.
        modality_dropout: dict mapping modality names to rates in [0, 1), or
            None. Defaults to None (no dropout).
        optional_modalities: sequence of modality names that may be missing,
            or None. Defaults to None, meaning the modalities that have a
            dropout rate (the model was trained to do without them).
        embedding_initializer: initializer for the modality embeddings.
            Defaults to a truncated normal with standard deviation 0.02.
        seed: int or None. Seed of the modality dropout. Defaults to None.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: dict mapping modality names to each adapter's inputs.
        mask: Optional dict mapping modality names to masks.
        training: Python bool, whether modality dropout is active (it is
            passed to the modality adapters too).

    Returns:
        A tuple `(byte_array, mask)`: the byte array has shape
        `(batch, sum of the modalities' elements, num_channels +
        modality_embedding_dim)`, the boolean mask `(batch, M)`.

    Example:

    >>> adapter = MultimodalAdapter(
    ...     {"audio": AudioAdapter(num_bands=8),
    ...      "video": VideoAdapter(num_bands=8)},
    ...     modality_dropout={"video": 0.3})
    >>> byte_array, mask = adapter({
    ...     "audio": keras.random.normal((2, 1024)),
    ...     "video": keras.random.uniform((2, 4, 16, 16, 3))})
    >>> tuple(byte_array.shape)  # 8 audio + 8 video elements
    (2, 16, 439)
    >>> byte_array, mask = adapter({"audio": keras.random.normal((2, 1024))})
    >>> tuple(byte_array.shape)  # video zeros, masked
    (2, 16, 439)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206):
          AudioSet audio+video experiments.
    """

    def __init__(
        self,
        adapters,
        num_channels=None,
        modality_embedding_dim=4,
        modality_dropout=None,
        optional_modalities=None,
        embedding_initializer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(adapters, dict) or not adapters or not all(
            isinstance(name, str) and isinstance(layer, keras.layers.Layer)
            for name, layer in adapters.items()
        ):
            raise ValueError(
                "`adapters` must be a non-empty dict mapping modality names "
                "to input adapter layers. "
                f"Received: adapters={adapters!r}"
            )
        self.adapters = dict(adapters)
        self.modality_names = tuple(adapters)
        self.num_channels = argument_checks.check_optional_positive_int(
            "num_channels", num_channels
        )
        self.modality_embedding_dim = argument_checks.check_positive_int(
            "modality_embedding_dim", modality_embedding_dim
        )
        self.modality_dropout = self._check_modality_dropout(modality_dropout)
        self.optional_modalities = self._check_names(
            "optional_modalities", optional_modalities
        )
        self.embedding_initializer = initializer_or_default(
            embedding_initializer
        )
        self.seed = seed
        if any(self._dropout_rates().values()):
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _check_names(self, argument, names):
        """Returns `names` (modalities of `adapters`) as a tuple, or None."""
        if names is None:
            return None
        if isinstance(names, str) or not all(
            isinstance(name, str) for name in names
        ):
            raise ValueError(
                f"`{argument}` must name modalities of `adapters`. "
                f"Received: {argument}={names!r}"
            )
        self._check_known(argument, names, f"{argument}={names!r}")
        return tuple(names)

    def _check_modality_dropout(self, modality_dropout):
        """Returns `modality_dropout` as a dict of rates, or None."""
        if modality_dropout is None:
            return None
        if not isinstance(modality_dropout, dict):
            raise ValueError(
                "`modality_dropout` must be a dict mapping modality names to "
                "rates in [0, 1). "
                f"Received: modality_dropout={modality_dropout!r}"
            )
        self._check_names("modality_dropout", modality_dropout)
        return {
            name: argument_checks.check_fraction(
                f"modality_dropout[{name!r}]", rate
            )
            for name, rate in modality_dropout.items()
        }

    def _check_known(self, argument, names, received):
        """Raises unless every one of `names` is a modality of `adapters`."""
        unknown = sorted(set(names) - set(self.modality_names))
        if unknown:
            raise ValueError(
                f"`{argument}` names modalities that `adapters` lacks: "
                f"{unknown}; the modalities are {list(self.modality_names)}. "
                f"Received: {received}"
            )

    def _dropout_rates(self):
        return dict(self.modality_dropout or {})

    def optional_modality_names(self):
        """The modalities that may be missing from the inputs."""
        if self.optional_modalities is not None:
            return set(self.optional_modalities)
        return {name for name, rate in self._dropout_rates().items() if rate}

    def _check_modalities(self, inputs, building=False):
        if not isinstance(inputs, dict):
            raise ValueError(
                "`inputs` must be a dict mapping modality names "
                f"{list(self.modality_names)} to each modality's inputs. "
                f"Received: inputs of type {type(inputs).__name__}"
            )
        self._check_known("inputs", inputs, f"keys {sorted(inputs)}")
        missing = [name for name in self.modality_names if name not in inputs]
        if building and missing:
            raise ValueError(
                "Every modality must be present when the adapter (or the "
                f"model) is built; missing: {missing}. "
                f"Received keys: {sorted(inputs)}"
            )
        optional = self.optional_modality_names()
        required = [name for name in missing if name not in optional]
        if required:
            raise ValueError(
                f"Modality {required[0]!r} is required: only "
                f"{sorted(optional)} may be missing (see "
                "`optional_modalities`). "
                f"Received keys: {sorted(inputs)}"
            )
        if not inputs:
            raise ValueError(
                "At least one modality must be present. Received: an empty "
                "dict"
            )

    def build(self, inputs_shape):
        self._check_modalities(inputs_shape, building=True)
        self.element_counts = {}
        self.modality_channels = {}
        for name, adapter in self.adapters.items():
            adapter.build(inputs_shape[name])
            byte_array_shape, _ = adapter.compute_output_shape(
                inputs_shape[name]
            )
            if byte_array_shape[1] is None or byte_array_shape[-1] is None:
                raise ValueError(
                    f"Modality {name!r} must give a byte array of known size "
                    "when the adapter is built, so that it can be stood in "
                    "for when missing. Received: byte array shape "
                    f"{tuple(byte_array_shape)}"
                )
            self.element_counts[name] = byte_array_shape[1]
            self.modality_channels[name] = byte_array_shape[-1]
        widest = max(self.modality_channels.values())
        if self.num_channels is not None and self.num_channels < widest:
            raise ValueError(
                "`num_channels` must be at least the widest modality's "
                f"channel count, {widest} "
                f"({self.modality_channels}). "
                f"Received: num_channels={self.num_channels}"
            )
        self.common_channels = self.num_channels or widest
        # Idempotent: a model may build an adapter that was built already
        # (as when loading a saved model).
        if getattr(self, "modality_embeddings", None) is None:
            self.modality_embeddings = self.add_weight(
                shape=(len(self.modality_names), self.modality_embedding_dim),
                initializer=self.embedding_initializer,
                name="modality_embeddings",
            )

    def call(self, inputs, mask=None, training=None):
        self._check_modalities(inputs)
        _check_batch_sizes(inputs)
        masks = self._mask_argument(mask)
        encoded = {
            name: self.adapters[name](
                inputs[name], mask=masks.get(name), training=training
            )
            for name in self.modality_names
            if name in inputs
        }
        batch = ops.shape(next(iter(encoded.values()))[0])[0]
        byte_arrays, element_masks = [], []
        for index, name in enumerate(self.modality_names):
            if name in encoded:
                byte_array, element_mask = encoded[name]
                byte_array = self._pad(byte_array)
                num_elements = byte_array.shape[1]
                if element_mask is None:
                    element_mask = ops.ones((batch, num_elements), "bool")
                element_mask = as_bool_mask(element_mask)
            else:
                num_elements = self.element_counts[name]
                byte_array = ops.zeros(
                    (batch, num_elements, self.common_channels),
                    self.compute_dtype,
                )
                element_mask = ops.zeros((batch, num_elements), "bool")
            embedding = ops.cast(
                self.modality_embeddings[index], self.compute_dtype
            )
            embedding = ops.broadcast_to(
                embedding[None, None],
                (batch, num_elements, self.modality_embedding_dim),
            )
            byte_arrays.append(
                ops.concatenate([byte_array, embedding], axis=-1)
            )
            rate = self._dropout_rates().get(name, 0.0)
            if training and rate > 0:
                keep = keras.random.uniform(
                    (batch,), seed=self.seed_generator
                ) >= rate
                element_mask = ops.logical_and(element_mask, keep[:, None])
            element_masks.append(element_mask)
        return (
            ops.concatenate(byte_arrays, axis=1),
            ops.concatenate(element_masks, axis=1),
        )

    def _mask_argument(self, mask):
        if mask is None:
            return {}
        if not isinstance(mask, dict):
            raise ValueError(
                "`mask` of multimodal inputs must be a dict mapping modality "
                "names to masks; better, put each mask in its modality's "
                "entry as {'inputs': ..., 'mask': ...}. "
                f"Received: mask of type {type(mask).__name__}"
            )
        self._check_known("mask", mask, f"keys {sorted(mask)}")
        return mask

    def _pad(self, byte_array):
        byte_array = ops.cast(byte_array, self.compute_dtype)
        missing = self.common_channels - byte_array.shape[-1]
        if missing < 0:
            raise ValueError(
                "A modality's byte array is wider than `num_channels`, "
                f"{self.common_channels}. Received: byte array shape "
                f"{tuple(byte_array.shape)}"
            )
        if missing == 0:
            return byte_array
        return ops.pad(byte_array, ((0, 0), (0, 0), (0, missing)))

    def compute_output_shape(self, inputs_shape):
        self._check_modalities(inputs_shape, building=not self.built)
        batch, total, widest = None, 0, 0
        for name in self.modality_names:
            if name in inputs_shape:
                byte_array_shape, _ = self.adapters[name].compute_output_shape(
                    inputs_shape[name]
                )
                batch = byte_array_shape[0]
                num_elements = byte_array_shape[1]
                channels = byte_array_shape[-1]
            else:
                num_elements = self.element_counts[name]
                channels = self.modality_channels[name]
            if total is not None and num_elements is not None:
                total += num_elements
            else:
                total = None
            widest = max(widest, channels)
        channels = (
            self.common_channels if self.built else self.num_channels or widest
        )
        channels += self.modality_embedding_dim
        return (batch, total, channels), (batch, total)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "adapters": {
                    name: keras.layers.serialize(adapter)
                    for name, adapter in self.adapters.items()
                },
                "num_channels": self.num_channels,
                "modality_embedding_dim": self.modality_embedding_dim,
                "modality_dropout": self.modality_dropout,
                "optional_modalities": self.optional_modalities,
                "embedding_initializer": keras.initializers.serialize(
                    self.embedding_initializer
                ),
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["adapters"] = {
            name: keras.layers.deserialize(adapter)
            for name, adapter in config["adapters"].items()
        }
        return cls(**config)


def _check_batch_sizes(inputs):
    """Raises unless every modality has the same (known) batch size."""
    sizes = {
        name: tensor.shape[0]
        for name, value in inputs.items()
        for tensor in keras.tree.flatten(value)
        if tensor is not None and tensor.shape[0] is not None
    }
    if len(set(sizes.values())) > 1:
        raise ValueError(
            "Every modality must have the same batch size (examples are "
            f"matched by position). Received batch sizes: {sizes}"
        )
