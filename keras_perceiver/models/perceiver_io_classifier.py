import keras

from keras_perceiver import argument_checks
from keras_perceiver.models.perceiver_encoder import check_encoder
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io import decoder_arguments
from keras_perceiver.models.perceiver_io import learned_queries_and_decoder
from keras_perceiver.models.perceiver_task import PerceiverTask


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverIOClassifier(PerceiverIO):
    """A Perceiver IO classifier: one learned query decoded into logits.

    DeepMind's Perceiver IO ImageNet models: the encoder's latents are read
    by a single learned query of the latent width, through a decoder
    cross-attend with a query residual, and a linear layer gives the logits
    (where `Perceiver` averages the latents instead). Loaded checkpoints
    (`keras_perceiver.pretrained`) are this model.

    Args:
        encoder: `keras_perceiver.PerceiverEncoder`.
        num_classes: int. Number of output logits.
        decoder_num_heads: int. Decoder attention heads. Defaults to 1.
        decoder_qk_channels: int or None. Decoder query/key width. Defaults
            to None, meaning the latent width.
        decoder_v_channels: int or None. Decoder value width. Defaults to
            None, meaning the query/key width.
        decoder_widening_factor: int. Decoder MLP widening. Defaults to 1.
        decoder_use_query_residual: bool. Whether the decoder adds its
            attention output to the query. Defaults to True (DeepMind's).
        dropout: float. Decoder dropout rate. Defaults to 0.
        class_names: list of str or None. A name per class, kept with the
            model (`predict` prints them). Defaults to None.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or
            None. How raw items become this model's inputs, kept as
            `model.preprocessor` and saved with the model (a checkpoint's
            `ImagePreprocessor`, from `load_checkpoint`). Defaults to None.
        **kwargs: the decoder arguments above (keyword arguments; see
            `DECODER_ARGUMENTS`) and base model keyword arguments, such as
            `name` and `dtype`.

    Call arguments:
        inputs: what the encoder takes.
        mask: optional boolean tensor `(batch, M)` over the byte array.
        training: Python bool, whether dropout is active.

    Returns:
        Logits of shape `(batch, num_classes)` in float32.

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=16, latent_dim=32, num_blocks=2,
    ...     num_self_attends_per_block=1, num_self_heads=2, num_bands=4,
    ...     block_scheme="perceiver_io")
    >>> model = PerceiverIOClassifier(encoder, num_classes=10)
    >>> tuple(model(keras.random.uniform((2, 8, 8, 1))).shape)
    (2, 10)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795)
    """

    def __init__(
        self,
        encoder,
        num_classes,
        decoder_use_query_residual=True,
        class_names=None,
        preprocessor=None,
        **kwargs,
    ):
        check_encoder(encoder)
        num_classes = argument_checks.check_positive_int("num_classes", num_classes)
        output_queries, decoder, kwargs = learned_queries_and_decoder(
            kwargs,
            num_queries=1,
            query_channels=encoder.latent_dim,
            num_output_channels=num_classes,
            use_query_residual=decoder_use_query_residual,
        )
        super().__init__(encoder, output_queries, decoder,
                         preprocessor=preprocessor, **kwargs)
        self.num_classes = num_classes
        self.class_names = argument_checks.check_class_names(
            class_names, num_classes
        )

    def call(self, inputs, mask=None, training=None):
        return super().call(inputs, mask=mask, training=training)[:, 0]

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(input_shape)[:1] + (
            self.num_classes,
        )

    def get_config(self):
        config = PerceiverTask.get_config(self)
        config.update(
            {
                "encoder": keras.layers.serialize(self.encoder),
                "num_classes": self.num_classes,
                "decoder_use_query_residual": (
                    self.decoder.use_query_residual
                ),
                "class_names": self.class_names,
                **decoder_arguments(self.decoder),
            }
        )
        return config
