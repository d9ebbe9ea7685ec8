import keras

from keras_perceiver import argument_checks


@keras.saving.register_keras_serializable(package="keras_perceiver")
class FeedForward(keras.layers.Layer):
    """The Perceiver's MLP: Dense, GELU, Dense, dropout.

    The hidden layer is `widening_factor` times the input width and the
    output has the input width, so the result can be added to the input as
    a residual. The paper's ImageNet model uses a widening factor of 1.
    Normalization and the residual belong to the enclosing block.

    Args:
        widening_factor: int. Hidden width as a multiple of the input width.
            Defaults to 1.
        dropout: float. Dropout rate on the output. Defaults to 0.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Tensor of shape `(..., channels)`.
        training: Python bool, whether dropout is active.

    Example:

    >>> mlp = FeedForward(widening_factor=4)
    >>> tuple(mlp(keras.random.normal((2, 8, 16))).shape)
    (2, 8, 16)
    """

    def __init__(self, widening_factor=1, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.widening_factor = argument_checks.check_positive_int(
            "widening_factor", widening_factor
        )
        self.dropout = argument_checks.check_fraction("dropout", dropout)
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )

    def build(self, inputs_shape):
        channels = inputs_shape[-1]
        self.hidden_dense = keras.layers.Dense(
            channels * self.widening_factor,
            activation="gelu",
            name="hidden",
            dtype=self.dtype_policy,
        )
        self.output_dense = keras.layers.Dense(
            channels, name="output", dtype=self.dtype_policy
        )
        self.hidden_dense.build(inputs_shape)
        self.output_dense.build(
            tuple(inputs_shape[:-1]) + (channels * self.widening_factor,)
        )

    def call(self, inputs, training=None):
        hidden = self.hidden_dense(inputs)
        return self.dropout_layer(self.output_dense(hidden), training=training)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"widening_factor": self.widening_factor, "dropout": self.dropout}
        )
        return config
