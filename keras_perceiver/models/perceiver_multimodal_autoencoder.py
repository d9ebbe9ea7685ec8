import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.multimodal_autoencoding_adapter import (
    MultimodalAutoencodingAdapter,
)
from keras_perceiver.layers.multimodal_queries import GRID_MODALITIES
from keras_perceiver.layers.multimodal_queries import MultimodalQueries
from keras_perceiver.models.perceiver_io import decoder_arguments
from keras_perceiver.models.perceiver_io import decoder_from_arguments
from keras_perceiver.models.perceiver_task import PerceiverTask
from keras_perceiver.models.perceiver_task import input_adapter_of


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverMultimodalAutoencoder(PerceiverTask):
    """Video, audio and label autoencoding, as DeepMind's Perceiver IO.

    The encoder reads a dict of video, audio and a one-hot label through a
    `MultimodalAutoencodingAdapter`. The decoder asks one query per audio
    patch, one per video pixel and one for the label
    (`MultimodalQueries`), all decoded together by one shared
    `PerceiverDecoder` (no query residual) into `output_num_channels`
    channels; a linear layer per modality then gives the audio samples of
    each patch, each pixel's channels and the label logits. These heads
    start at zero, so an untrained model predicts silence and black frames:
    with random heads the decoder's features, of order one, reach the
    outputs as noise many times the signal, which training from scratch
    takes hundreds of steps to unlearn before it learns the data. Loaded
    `PerceiverForMultimodalAutoencoding` checkpoints
    (`keras_perceiver.pretrained`) are this model.

    Decoding every pixel of a long video does not fit in memory; DeepMind
    trains and evaluates by decoding a subset of the points at a time:
    pass `subsampled_output_points` to decode only those (their outputs
    are exactly those of the full decoding, indexed). With
    `training_points`, every training step decodes that many points of
    each modality, drawn at random, and `compute_loss` compares them with
    the targets at the same points; inference and evaluation decode all.

    To predict the label from video and audio, as DeepMind evaluates,
    give the adapter a label mask token (`mask_probs={"label": ...}`) and
    leave the label out of the inputs.

    Args:
        encoder: `keras_perceiver.PerceiverEncoder` whose `input_adapter`
            is a `keras_perceiver.adapters.MultimodalAutoencodingAdapter`.
        output_num_channels: int. Width of the shared decoder's outputs.
            Defaults to 512 (DeepMind's).
        label_query_channels: int. Width of the learned label query.
            Defaults to 1024 (DeepMind's).
        query_padding_size: int. Learned padding of the widest modality's
            queries. Defaults to 2 (DeepMind's).
        training_points: None, or a dict with `"audio"` and/or `"video"`:
            how many audio patches or video pixels each training step
            decodes (drawn anew each step, without repeats; the others are
            neither decoded nor in the loss). Defaults to None (all).
        seed: int or None. Seeds the training points' draws. Defaults to
            None.
        preprocessor: `keras_perceiver.preprocessing.Preprocessor` or None.
            Kept as `model.preprocessor` and saved with the model. Defaults
            to None.
        **kwargs: the decoder arguments (`decoder_num_heads`,
            `decoder_qk_channels`, `decoder_v_channels`,
            `decoder_widening_factor`, `dropout`, `decoder_query_chunk_size`;
            see `DECODER_ARGUMENTS`) and base model keyword arguments, such
            as `name` and `dtype`.

    Call arguments:
        inputs: dict with `"audio"`, `"video"` and `"label"` (see
            `MultimodalAutoencodingAdapter`).
        mask: must be None.
        training: Python bool, whether dropout is active.
        subsampled_output_points: None, or a dict with `"audio"` and/or
            `"video"`: 1-D integer tensors of the flat indices of the
            audio patches or video pixels to decode.

    Returns:
        A dict in float32: `"audio"` `(batch, samples)` (the decoded
        patches' samples), `"video"` `(batch, frames, height, width,
        channels)` (or `(batch, points, channels)` when subsampled, by
        `subsampled_output_points` or in training with `training_points`)
        and `"label"` logits `(batch, num_labels)`.

    Example:

    >>> encoder = PerceiverEncoder(
    ...     num_latents=8, latent_dim=16, num_blocks=1,
    ...     num_self_attends_per_block=1, num_self_heads=2,
    ...     block_scheme="perceiver_io",
    ...     input_adapter=adapters.MultimodalAutoencodingAdapter(
    ...         num_frames=2, frame_size=8, audio_samples_per_frame=16,
    ...         num_labels=10, num_channels=1, audio_num_bands=4,
    ...         video_num_bands=4, mask_probs={"label": 1.0}))
    >>> model = PerceiverMultimodalAutoencoder(
    ...     encoder, output_num_channels=8, label_query_channels=8)
    >>> outputs = model({"audio": keras.random.normal((2, 32)),
    ...                  "video": keras.random.uniform((2, 2, 8, 8, 1))})
    >>> {name: tuple(value.shape) for name, value in outputs.items()}
    {'audio': (2, 32), 'video': (2, 2, 8, 8, 1), 'label': (2, 10)}

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795), section
          4.3 (multimodal autoencoding).
    """

    def __init__(self, encoder, output_num_channels=512,
                 label_query_channels=1024, query_padding_size=2,
                 training_points=None, seed=None, preprocessor=None,
                 **kwargs):
        adapter = input_adapter_of(
            encoder, MultimodalAutoencodingAdapter, "its inputs"
        )
        self.output_num_channels = argument_checks.check_positive_int(
            "output_num_channels", output_num_channels
        )
        decoder, kwargs = decoder_from_arguments(
            kwargs, num_output_channels=output_num_channels,
            use_query_residual=False,
        )
        super().__init__(encoder, preprocessor=preprocessor, **kwargs)
        self.decoder = decoder
        self.output_queries = MultimodalQueries(
            audio_index_shape=(
                adapter.num_samples // adapter.samples_per_patch,
            ),
            video_index_shape=adapter.video_shape[:3],
            audio_num_bands=adapter.audio_adapter.num_bands,
            video_num_bands=adapter.video_adapter.num_bands,
            audio_max_resolution=adapter.audio_adapter.max_resolution,
            video_max_resolution=adapter.video_adapter.max_resolution,
            label_channels=label_query_channels,
            min_padding_size=query_padding_size,
            name="output_queries", dtype=self.dtype_policy,
        )
        self.training_points = _check_training_points(
            training_points, self.output_queries
        )
        self.seed = seed
        # Only with training points: its state is a variable of the model.
        self.seed_generator = (keras.random.SeedGenerator(seed)
                               if self.training_points else None)
        # The points the last call drew, for `compute_loss` in the same
        # training step (one trace on JAX and TensorFlow); None otherwise.
        self._drawn_points = None
        self.heads = {
            name: keras.layers.Dense(
                width, kernel_initializer="zeros", name=f"{name}_head",
                dtype=self.dtype_policy,
            )
            for name, width in (
                ("audio", adapter.samples_per_patch),
                ("video", adapter.num_channels),
                ("label", adapter.num_labels),
            )
        }

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        byte_array_shape = self.encoder.byte_array_shape
        if not self.output_queries.built:
            self.output_queries.build(byte_array_shape)
        queries_shape = (None, None, self.output_queries.num_channels())
        latents_shape = (
            None, self.encoder.num_latents, self.encoder.latent_dim
        )
        if not self.decoder.built:
            self.decoder.build(queries_shape, latents_shape)
        for head in self.heads.values():
            if not head.built:
                head.build((None, None, self.output_num_channels))

    def call(self, inputs, mask=None, training=None,
             subsampled_output_points=None):
        self._drawn_points = None
        if training and self.training_points and (
                subsampled_output_points is None):
            subsampled_output_points = self._draw_points()
            self._drawn_points = subsampled_output_points
        byte_array, mask = self.encoder.encode_inputs(
            inputs, mask, training=training
        )
        latents = self.encoder.attend(byte_array, mask=mask, training=training)
        queries = self.output_queries(byte_array, subsampled_output_points)
        decoded = self.decoder(queries, latents, training=training)
        counts = self._point_counts(subsampled_output_points)
        outputs, start = {}, 0
        for name, count in counts.items():
            part = self.heads[name](decoded[:, start:start + count])
            outputs[name] = ops.cast(part, self.dtype_policy.variable_dtype)
            start += count
        batch = ops.shape(decoded)[0]
        outputs["audio"] = ops.reshape(outputs["audio"], (batch, -1))
        outputs["label"] = outputs["label"][:, 0]
        if "video" not in (subsampled_output_points or {}):
            outputs["video"] = ops.reshape(
                outputs["video"],
                (batch,) + self.encoder.input_adapter.video_shape,
            )
        return outputs

    def _draw_points(self):
        """`training_points` of each modality's flat indices, at random."""
        return {
            name: ops.cast(keras.random.shuffle(
                ops.arange(self.output_queries.num_points(name)),
                seed=self.seed_generator,
            )[:count], "int32")
            for name, count in self.training_points.items()
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """Keras' loss, the targets taken at the points this training
        step decoded (`training_points`), if it drew any."""
        if self._drawn_points is not None and y is not None:
            y = self._targets_at(y, self._drawn_points)
        return super().compute_loss(x, y, y_pred, sample_weight, training)

    def _targets_at(self, targets, points):
        """The targets of the decoded points: the pixels `(batch, points,
        channels)`, the patches' samples `(batch, samples)`."""
        targets = dict(targets)
        adapter = self.encoder.input_adapter
        if "video" in points:
            pixels = ops.reshape(targets["video"],
                                 (-1, self.output_queries.num_points("video"),
                                  adapter.num_channels))
            targets["video"] = ops.take(pixels, points["video"], axis=1)
        if "audio" in points:
            patches = ops.reshape(targets["audio"],
                                  (-1, self.output_queries.num_points("audio"),
                                   adapter.samples_per_patch))
            chosen = ops.take(patches, points["audio"], axis=1)
            targets["audio"] = ops.reshape(chosen, (ops.shape(chosen)[0], -1))
        return targets

    def _point_counts(self, subsampled_output_points):
        """`{modality: decoded points}` in the order of the queries."""
        subsampled = subsampled_output_points or {}
        counts = {
            name: (subsampled[name].shape[0] if name in subsampled
                   else self.output_queries.num_points(name))
            for name in GRID_MODALITIES
        }
        counts["label"] = 1
        return counts

    def compute_output_shape(self, input_shape):
        adapter = self.encoder.input_adapter
        batch = next(iter(input_shape.values()))[0]
        return {
            "audio": (batch, adapter.num_samples),
            "video": (batch,) + adapter.video_shape,
            "label": (batch, adapter.num_labels),
        }

    def get_config(self):
        config = super().get_config()
        queries = self.output_queries
        config.update(
            {
                "encoder": keras.layers.serialize(self.encoder),
                "output_num_channels": self.output_num_channels,
                "label_query_channels": queries.label_channels,
                "query_padding_size": queries.min_padding_size,
                "training_points": self.training_points,
                "seed": self.seed,
                **decoder_arguments(self.decoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.layers.deserialize(config["encoder"])
        return cls(**config)


def _check_training_points(training_points, output_queries):
    """`training_points` as a dict (None stays None); raises unless each
    key is a grid modality and each count in `[1, its points]`."""
    if training_points is None:
        return None
    sizes = {name: output_queries.num_points(name) for name in GRID_MODALITIES}
    if (not isinstance(training_points, dict) or not training_points
            or not set(training_points) <= set(sizes)
            or not all(isinstance(count, int) and not isinstance(count, bool)
                       and 1 <= count <= sizes[name]
                       for name, count in training_points.items())):
        raise ValueError(
            "`training_points` must be None or a dict mapping 'audio' "
            f"and/or 'video' to a number of points in [1, {sizes['audio']}] "
            f"audio patches and [1, {sizes['video']}] video pixels. "
            f"Received: training_points={training_points!r}"
        )
    return dict(training_points)
