import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.flow_adapter import FlowAdapter
from keras_perceiver.layers.input_queries import InputQueries
from keras_perceiver.models.perceiver_io import PerceiverIO
from keras_perceiver.models.perceiver_io import byte_array_shape_for
from keras_perceiver.models.perceiver_io import decoder_arguments
from keras_perceiver.models.perceiver_io import decoder_from_arguments
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.models.perceiver_task import input_adapter_of

# DeepMind's flow decoder divides its outputs by 100.
DEFAULT_RESCALE_FACTOR = 100.0
# Horizontal and vertical displacement.
FLOW_CHANNELS = 2


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverOpticalFlow(PerceiverIO):
    """Optical flow between two frames, as DeepMind's Perceiver IO.

    The encoder reads a pair of frames through a `FlowAdapter` (the 3 x 3
    patch around every pixel of both frames, a linear layer, 2-D Fourier
    features), one element per pixel. The decoder's queries are those same
    elements (`InputQueries` over the whole byte array, as DeepMind
    queries with the first frame's features), decoded without query
    residual into 2 channels per pixel and divided by `rescale_factor`:
    the flow field, in pixels, horizontal (x, to the right) first, then
    vertical (y, downwards). Loaded `PerceiverForOpticalFlow` checkpoints
    (`keras_perceiver.pretrained`) are this model.

    A full-resolution field has a query per pixel; give
    `decoder_query_chunk_size` to decode them a chunk at a time (exactly
    the same field, a fraction of the memory).

    Args:
        encoder: `keras_perceiver.PerceiverEncoder` whose `input_adapter`
            is a `keras_perceiver.adapters.FlowAdapter`.
        rescale_factor: float. The decoder's outputs are divided by it.
            Defaults to 100 (DeepMind's).
        decoder_num_heads: int. Decoder attention heads. Defaults to 1.
        decoder_qk_channels: int or None. Decoder query/key width.
            Defaults to None, meaning the latent width.
        decoder_v_channels: int or None. Decoder value width. Defaults to
            None, meaning the query/key width.
        decoder_widening_factor: int. Decoder MLP widening. Defaults to 1.
        decoder_query_chunk_size: int or None. Pixels decoded at a time
            (see `PerceiverDecoder`'s `query_chunk_size`). Defaults to
            None: all at once.
        dropout: float. Decoder dropout rate. Defaults to 0.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or None.
            Kept as `model.preprocessor` and saved with the model. Defaults
            to None.
        **kwargs: the decoder arguments above (keyword arguments; see
            `DECODER_ARGUMENTS`) and base model keyword arguments, such as
            `name` and `dtype`.

    Call arguments:
        inputs: frame pairs `(batch, 2, H, W, C)`.
        mask: must be None.
        training: Python bool, whether dropout is active.

    Returns:
        The flow `(batch, H, W, 2)` in float32, in pixels.

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=8, latent_dim=16, num_blocks=1,
    ...     num_self_attends_per_block=1, num_self_heads=2,
    ...     block_scheme="perceiver_io",
    ...     input_adapter=adapters.FlowAdapter(num_channels=8, num_bands=4))
    >>> model = PerceiverOpticalFlow(encoder, decoder_query_chunk_size=64)
    >>> tuple(model(keras.random.uniform((2, 2, 12, 16, 1))).shape)
    (2, 12, 16, 2)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795), section
          4.2 (optical flow).
    """

    def __init__(self, encoder, rescale_factor=DEFAULT_RESCALE_FACTOR,
                 preprocessor=None, **kwargs):
        input_adapter_of(encoder, FlowAdapter, "frame pairs")
        self.rescale_factor = argument_checks.check_positive_number(
            "rescale_factor", rescale_factor
        )
        decoder, kwargs = decoder_from_arguments(
            kwargs, num_output_channels=FLOW_CHANNELS,
            use_query_residual=False,
        )
        output_queries = InputQueries(
            name="output_queries", dtype=kwargs.get("dtype")
        )
        super().__init__(encoder, output_queries, decoder,
                         preprocessor=preprocessor, **kwargs)

    def call(self, inputs, mask=None, training=None):
        flow = super().call(inputs, mask=mask, training=training)
        height, width = self.encoder.input_adapter.element_grid
        flow = ops.reshape(
            flow, (ops.shape(flow)[0], height, width, FLOW_CHANNELS)
        )
        return flow / self.rescale_factor

    def compute_output_shape(self, input_shape):
        byte_array_shape = byte_array_shape_for(self.encoder, input_shape)
        frames_shape = input_shape.get("inputs") if isinstance(
            input_shape, dict) else input_shape
        return (byte_array_shape[0],) + tuple(frames_shape[2:4]) + (
            FLOW_CHANNELS,
        )

    def get_config(self):
        config = PerceiverTask.get_config(self)
        config.update(
            {
                "encoder": keras.layers.serialize(self.encoder),
                "rescale_factor": self.rescale_factor,
                **decoder_arguments(self.decoder),
            }
        )
        return config
