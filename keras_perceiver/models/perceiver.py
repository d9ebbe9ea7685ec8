import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.models.perceiver_encoder import PerceiverEncoder
from keras_perceiver.preprocessing import preprocessor as preprocessors


@keras.saving.register_keras_serializable(package="keras_perceiver")
class Perceiver(PerceiverEncoder):
    """The Perceiver classifier of Jaegle et al. (2021).

    A `PerceiverEncoder` followed by the paper's head: the final latents are
    averaged over the index dimension and a linear layer gives the logits.
    Every encoder argument (block scheme, weight sharing, input adapter) is
    accepted; the defaults are the paper's ImageNet model, which builds to
    its 44.9 M parameters (326.2 M with `weight_sharing="none"`).

    It takes what the encoder takes: images `(batch, H, W, C)`, a byte
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
        **kwargs: every `PerceiverEncoder` argument (`num_latents`,
            `latent_dim`, `num_blocks`, `num_self_attends_per_block`, head
            counts and widths, `num_bands`, `max_resolution`,
            `weight_sharing`, `cross_attend_placement`, `block_scheme`,
            `dropout`, `latent_initializer`, `input_adapter`), with the same
            defaults, and base model keyword arguments such as `name` and
            `dtype`.

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
                 input_preprocessing=None, preprocessor=None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = argument_checks.check_positive_int(
            "num_classes", num_classes
        )
        self.class_names = argument_checks.check_class_names(
            class_names, num_classes
        )
        if input_preprocessing is not None and preprocessor is not None:
            raise ValueError(
                "Give `preprocessor` or its settings `input_preprocessing`, "
                f"not both. Received: input_preprocessing="
                f"{input_preprocessing!r}, preprocessor={preprocessor!r}"
            )
        self.preprocessor = preprocessors.as_preprocessor(
            input_preprocessing if preprocessor is None else preprocessor
        )
        self.head = keras.layers.Dense(
            num_classes, name="head", dtype=self.dtype_policy
        )

    @property
    def input_preprocessing(self):
        """The settings dict of a `FilePreprocessor`, else None (read
        only; the form of earlier releases)."""
        return preprocessors.file_settings(self.preprocessor)

    def build(self, input_shape):
        super().build(input_shape)
        self.head.build((None, self.latent_dim))

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
        return super().call(inputs, mask=mask, training=training)

    def compute_output_shape(self, input_shape):
        latents_shape = super().compute_output_shape(input_shape)
        return (latents_shape[0], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        config["class_names"] = self.class_names
        config["preprocessor"] = preprocessors.serialized(self.preprocessor)
        return config
