import inspect

import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.preprocessing.preprocessor import file_settings

# The `PerceiverEncoder` arguments that `Perceiver` takes beside its own.
ENCODER_ARGUMENTS = tuple(
    name for name in inspect.signature(PerceiverEncoder).parameters
    if name != "kwargs"
)


def _encoder_layers(name):
    """A read-only view of the encoder's attribute `name`, for the layout
    of a Perceiver's `.keras` files (see `Perceiver.__dir__`)."""
    return property(lambda self: getattr(self.encoder, name),
                    doc=f"The encoder's `{name}`.")


@keras.saving.register_keras_serializable(package="keras_perceiver")
class Perceiver(PerceiverTask):
    """The Perceiver classifier of Jaegle et al. (2021).

    A `PerceiverEncoder` (the backbone) followed by the paper's head: the
    final latents are averaged over the index dimension and a linear layer
    gives the logits. Give the encoder's arguments (block scheme, weight
    sharing, input adapter, ...) and the model builds its encoder, or give
    a built `encoder`; the defaults are the paper's ImageNet model, which
    builds to its 44.9 M parameters (326.2 M with `weight_sharing="none"`).

    It takes what its encoder takes: images `(batch, H, W, C)`, a byte
    array `(batch, M, C)` with an optional mask (`mask=` or the dict
    `{"inputs": ..., "mask": ...}`, the form for `model.fit`), or anything
    its `input_adapter` accepts; see `PerceiverEncoder` for the block
    schemes and weight sharing.

    Args:
        num_classes: int. Number of output logits.
        class_names: list of str or None. A name per class, kept with the
            model (the command line's `predict` prints them). Defaults to
            None.
        input_preprocessing: dict or None. The settings of a
            `keras_perceiver.preprocessing.FilePreprocessor` (image size,
            audio features, ...), the form of earlier releases; give
            `preprocessor` or this, not both. Defaults to None.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or
            None. How raw items (files) become this model's inputs, kept
            as `model.preprocessor` and saved with the model, so `predict`
            reads files as training did. Defaults to None.
        encoder: `PerceiverEncoder` or None. The backbone. Defaults to None:
            one built from the encoder arguments in `kwargs`, which must
            then be the only ones given.
        **kwargs: every `PerceiverEncoder` argument (`num_latents`,
            `latent_dim`, `num_blocks`, `num_self_attends_per_block`, head
            counts and widths, `num_bands`, `max_resolution`,
            `weight_sharing`, `cross_attend_placement`, `block_scheme`,
            `dropout`, `latent_initializer`, `input_adapter`), with the same
            defaults, and base model keyword arguments such as `name` and
            `dtype`.

    Attributes:
        encoder: the `PerceiverEncoder`.
        head: the `keras.layers.Dense` layer that gives the logits.

    Call arguments: those of `PerceiverEncoder` (`inputs`, `mask`,
    `training`).

    Returns:
        Logits of shape `(batch, num_classes)`, in float32 under mixed
        precision.

    Example:

    >>> model = Perceiver(num_classes=10, num_latents=32, latent_dim=64,
    ...                   num_blocks=2, num_self_attends_per_block=2,
    ...                   num_self_heads=4, num_bands=8)
    >>> tuple(model(keras.random.uniform((2, 28, 28, 1))).shape)
    (2, 10)
    >>> tuple(model.encode(keras.random.uniform((2, 28, 28, 1))).shape)
    (2, 32, 64)

    References:
        - [Jaegle et al., 2021](https://arxiv.org/abs/2103.03206)
    """

    def __init__(self, num_classes, class_names=None,
                 input_preprocessing=None, preprocessor=None, encoder=None,
                 **kwargs):
        if input_preprocessing is not None and preprocessor is not None:
            raise ValueError(
                "Give `preprocessor` or its settings `input_preprocessing`, "
                f"not both. Received: input_preprocessing="
                f"{input_preprocessing!r}, preprocessor={preprocessor!r}"
            )
        encoder_arguments = {name: kwargs.pop(name) for name in list(kwargs)
                             if name in ENCODER_ARGUMENTS}
        if encoder is None:
            encoder = PerceiverEncoder(
                **encoder_arguments, name="encoder", dtype=kwargs.get("dtype")
            )
        elif encoder_arguments:
            raise ValueError(
                "Give `Perceiver` either an `encoder` or the arguments of "
                "one, not both. Received: encoder arguments "
                f"{sorted(encoder_arguments)} beside encoder={encoder!r}"
            )
        super().__init__(
            encoder,
            preprocessor=(input_preprocessing if preprocessor is None
                          else preprocessor),
            **kwargs,
        )
        self.num_classes = argument_checks.check_positive_int(
            "num_classes", num_classes
        )
        self.class_names = argument_checks.check_class_names(
            class_names, num_classes
        )
        self.head = keras.layers.Dense(
            num_classes, name="head", dtype=self.dtype_policy
        )

    # The encoder's layers that files hold at their top level (`__dir__`).
    cross_attends = _encoder_layers("cross_attends")
    input_adapter = _encoder_layers("input_adapter")
    latent_transformers = _encoder_layers("latent_transformers")

    def __dir__(self):
        # Keras saves a model's layers under the attribute names `dir()`
        # lists. Listing the encoder's layers (the properties above) in
        # place of `encoder` (and of `layers`, which holds it) keeps the
        # layout of every `.keras` file a Perceiver has written; the
        # encoder's own variable, the latent array, goes with the model's
        # (`save_own_variables`).
        return [name for name in super().__dir__()
                if name not in ("encoder", "layers")]

    def save_own_variables(self, store):
        self.encoder.save_own_variables(store)

    def load_own_variables(self, store):
        self.encoder.load_own_variables(store)

    @property
    def input_preprocessing(self):
        """The settings dict of a `FilePreprocessor`, else None (read
        only; the form of earlier releases)."""
        return file_settings(self.preprocessor)

    def build(self, input_shape):
        # Layers deserialized from a saved model come built already.
        if not self.encoder.built:
            self.encoder.build(input_shape)
        self.head.build((None, self.encoder.latent_dim))

    def call(self, inputs, mask=None, training=None):
        latents = self.encode(inputs, mask=mask, training=training)
        logits = self.head(ops.mean(latents, axis=1))
        return ops.cast(logits, self.dtype_policy.variable_dtype)

    def encode(self, inputs, mask=None, training=None):
        """The encoder's final latents `(batch, N, D)`, before the head.

        Args:
            inputs: what the model's `call` takes.
            mask: optional boolean tensor `(batch, M)`.
            training: Python bool, whether dropout is active.
        """
        return self.encoder(inputs, mask=mask, training=training)

    def compute_output_shape(self, input_shape):
        latents_shape = self.encoder.compute_output_shape(input_shape)
        return (latents_shape[0], self.num_classes)

    def get_config(self):
        # One flat config, as before the model held its encoder: the
        # encoder's arguments beside the model's own.
        config = super().get_config()
        encoder_config = self.encoder.get_config()
        config.update(
            {name: encoder_config[name] for name in ENCODER_ARGUMENTS}
        )
        config["num_classes"] = self.num_classes
        config["class_names"] = self.class_names
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder_config = {name: config.pop(name) for name in list(config)
                          if name in ENCODER_ARGUMENTS}
        encoder = PerceiverEncoder.from_config(
            {**encoder_config, "name": "encoder", "dtype": config.get("dtype")}
        )
        return cls(encoder=encoder, **config)
