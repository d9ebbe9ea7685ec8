import keras
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.adapters.audio_adapter import AudioAdapter
from keras_perceiver.adapters.input_adapter import InputAdapter
from keras_perceiver.adapters.multimodal_adapter import _check_batch_sizes
from keras_perceiver.adapters.video_adapter import VideoAdapter
from keras_perceiver.layers.initializers import initializer_or_default

# DeepMind's modality order (its names sorted: audio, image, label).
MODALITIES = ("audio", "video", "label")


@keras.saving.register_keras_serializable(package="keras_perceiver")
class MultimodalAutoencodingAdapter(InputAdapter):
    """Video, audio and a label as one byte array, as DeepMind's autoencoder.

    The input processing of DeepMind's multimodal autoencoding Perceiver IO
    (Hugging Face's `PerceiverForMultimodalAutoencoding`):

    - audio `(batch, samples)` is cut into patches of `samples_per_patch`
      samples with 1-D Fourier features (an `AudioAdapter`);
    - video `(batch, frames, height, width, channels)` is cut into
      `1 x video_patch_size x video_patch_size` patches (space to depth)
      with 3-D Fourier features (a `VideoAdapter`);
    - the label, one-hot `(batch, num_labels)`, is one element.

    Each modality is padded to a common width (the widest modality's plus
    `min_padding_size`) with a learned vector of its own, and the three are
    joined in DeepMind's order: audio, video, label.

    Masking: a modality named in `mask_probs` has a learned mask token;
    each of its elements is replaced by the token with that probability in
    every call (training or not, as DeepMind's), so a rate of 1 always
    hides it. Such a modality may also be left out of the inputs: all its
    elements are then the token (the label at test time). The others are
    required.

    Args:
        num_frames: int. Video frames.
        frame_size: int or pair of ints. Frame height and width; the patch
            size must divide both.
        audio_samples_per_frame: int. Audio samples per video frame: the
            audio holds `num_frames * audio_samples_per_frame` samples.
        num_labels: int. Classes of the one-hot label.
        num_channels: int. Video channels. Defaults to 3.
        samples_per_patch: int. Audio samples per element. Defaults to 16.
        video_patch_size: int. Height and width of a video patch. Defaults
            to 4.
        audio_num_bands: int. Fourier bands of the audio. Defaults to 192.
        video_num_bands: int. Fourier bands per video axis. Defaults to 32.
        video_max_resolution: int, triple of ints (frames, height, width)
            or None. The maximum resolution of the video's Fourier
            features, for the patches in and the pixels decoded. None
            takes the video's `(num_frames, height, width)`. DeepMind's
            published model has `(16, 56, 56)` on 224 x 224 frames (its
            patch grid). Defaults to None.
        min_padding_size: int. Learned padding of the widest modality.
            Defaults to 4.
        mask_probs: dict mapping modality names to masking rates in
            [0, 1], or None (no mask tokens). Defaults to None.
        embedding_initializer: initializer of the paddings and mask
            tokens. Defaults to a truncated normal with standard deviation
            0.02.
        seed: int or None. Seed of the masking. Defaults to None.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: dict with `"audio"` `(batch, samples)` (or `(batch,
            samples, 1)`), `"video"` `(batch, frames, height, width,
            channels)` and `"label"` `(batch, num_labels)`.
        mask: must be None.
        training: Python bool; unused.

    Returns:
        A tuple `(byte_array, None)`, the byte array `(batch, audio
        patches + video patches + 1, common width)`.

    Example:

    >>> adapter = MultimodalAutoencodingAdapter(
    ...     num_frames=2, frame_size=8, audio_samples_per_frame=16,
    ...     num_labels=10, num_channels=1, audio_num_bands=4,
    ...     video_num_bands=4, mask_probs={"label": 1.0})
    >>> byte_array, _ = adapter({
    ...     "audio": keras.random.normal((2, 32)),
    ...     "video": keras.random.uniform((2, 2, 8, 8, 1))})
    >>> tuple(byte_array.shape)  # 2 audio + 8 video patches + the label
    (2, 11, 35)

    References:
        - [Jaegle et al., 2022](https://arxiv.org/abs/2107.14795), section
          4.3 (multimodal autoencoding).
    """

    def __init__(self, num_frames, frame_size, audio_samples_per_frame,
                 num_labels, num_channels=3, samples_per_patch=16,
                 video_patch_size=4, audio_num_bands=192, video_num_bands=32,
                 video_max_resolution=None, min_padding_size=4,
                 mask_probs=None, embedding_initializer=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        check = argument_checks.check_positive_int
        self.num_frames = check("num_frames", num_frames)
        self.frame_size = argument_checks.resolve_int_per_dimension(
            "frame_size", frame_size, 2
        )
        self.audio_samples_per_frame = check(
            "audio_samples_per_frame", audio_samples_per_frame
        )
        self.num_labels = check("num_labels", num_labels)
        self.num_channels = check("num_channels", num_channels)
        self.samples_per_patch = check("samples_per_patch", samples_per_patch)
        self.video_patch_size = check("video_patch_size", video_patch_size)
        for side in self.frame_size:
            argument_checks.check_divisible(
                "frame_size", side, "video_patch_size", video_patch_size
            )
        argument_checks.check_divisible(
            "num_frames * audio_samples_per_frame", self.num_samples,
            "samples_per_patch", samples_per_patch,
        )
        self.min_padding_size = check("min_padding_size", min_padding_size)
        self.mask_probs = _check_mask_probs(mask_probs)
        self.embedding_initializer = initializer_or_default(
            embedding_initializer
        )
        self.seed = seed
        if any(0 < rate < 1 for rate in self.mask_probs.values()):
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.audio_adapter = AudioAdapter(
            patch_size=samples_per_patch, num_bands=audio_num_bands,
            max_resolution=self.num_samples, name="audio_adapter",
            dtype=self.dtype_policy,
        )
        if video_max_resolution is None:
            video_max_resolution = self.video_shape[:3]
        self.video_adapter = VideoAdapter(
            patch_size=(1, video_patch_size, video_patch_size),
            num_bands=video_num_bands, max_resolution=video_max_resolution,
            name="video_adapter",
            dtype=self.dtype_policy,
        )

    @property
    def num_samples(self):
        """Audio samples of an example: frames x samples per frame."""
        return self.num_frames * self.audio_samples_per_frame

    @property
    def video_shape(self):
        """`(frames, height, width, channels)` of a video."""
        return (self.num_frames,) + tuple(self.frame_size) + (
            self.num_channels,
        )

    @property
    def input_shapes(self):
        """Each modality's input shape, batch axis first (None)."""
        return {
            "audio": (None, self.num_samples),
            "video": (None,) + self.video_shape,
            "label": (None, self.num_labels),
        }

    def element_shapes(self):
        """`{modality: (elements, channels)}` before padding."""
        shapes = self.input_shapes
        audio, _ = self.audio_adapter.compute_output_shape(shapes["audio"])
        video, _ = self.video_adapter.compute_output_shape(shapes["video"])
        return {"audio": tuple(audio[1:]), "video": tuple(video[1:]),
                "label": (1, self.num_labels)}

    @property
    def common_channels(self):
        """The width every modality is padded to."""
        widest = max(
            channels for _, channels in self.element_shapes().values()
        )
        return widest + self.min_padding_size

    def build(self, inputs_shape):
        self._check_inputs(inputs_shape, shape_of=tuple)
        shapes = self.input_shapes
        self.audio_adapter.build(shapes["audio"])
        self.video_adapter.build(shapes["video"])
        common = self.common_channels
        self.paddings = {}
        for name, (_, channels) in self.element_shapes().items():
            self.paddings[name] = self.add_weight(
                shape=(common - channels,),
                initializer=self.embedding_initializer,
                name=f"{name}_padding",
            )
        self.mask_tokens = {
            name: self.add_weight(
                shape=(common,), initializer=self.embedding_initializer,
                name=f"{name}_mask_token",
            )
            for name in MODALITIES if name in self.mask_probs
        }

    def _check_inputs(self, inputs, shape_of):
        """Raises unless `inputs` holds each modality in its built shape."""
        if not isinstance(inputs, dict):
            raise ValueError(
                "`inputs` must be a dict with the modalities "
                f"{list(MODALITIES)}. "
                f"Received: inputs of type {type(inputs).__name__}"
            )
        unknown = sorted(set(inputs) - set(MODALITIES))
        missing = [name for name in MODALITIES
                   if name not in inputs and name not in self.mask_probs]
        if unknown or missing:
            raise ValueError(
                f"`inputs` must hold the modalities {list(MODALITIES)}; only "
                f"those with a mask token ({sorted(self.mask_probs)}) may be "
                f"left out. Missing: {missing}; unknown: {unknown}. "
                f"Received keys: {sorted(inputs)}"
            )
        for name, value in inputs.items():
            self._check_shape(name, shape_of(value))

    def _check_shape(self, name, shape):
        expected = self.input_shapes[name]
        if name == "audio" and len(shape) == 3 and shape[-1] == 1:
            shape = shape[:2]
        if tuple(shape[1:]) == expected[1:]:
            return
        what = {
            "audio": (f"{self.num_frames} frames x "
                      f"{self.audio_samples_per_frame} samples per frame = "
                      f"{self.num_samples} samples"),
            "video": (f"{self.num_frames} frames of "
                      f"{self.frame_size[0]} x {self.frame_size[1]} pixels "
                      f"with {self.num_channels} channels"),
            "label": f"a one-hot vector of {self.num_labels} classes",
        }[name]
        raise ValueError(
            f"`{name}` must have shape {expected}: {what}, as the model "
            f"was built. Received: {name}.shape={tuple(shape)}"
        )

    def call(self, inputs, mask=None, training=None):
        # Keras passes a dict of Nones for dict inputs without masks.
        if any(entry is not None for entry in keras.tree.flatten(mask)):
            raise ValueError(
                "The multimodal autoencoding inputs take no mask: each "
                "example holds the whole video, audio and label. "
                f"Received: mask={mask!r}"
            )
        self._check_inputs(inputs, shape_of=lambda value: tuple(value.shape))
        _check_batch_sizes(inputs)
        batch = ops.shape(next(iter(inputs.values())))[0]
        parts = []
        for name, (elements, _) in self.element_shapes().items():
            if name in inputs:
                part = self._padded(name, self._encode(name, inputs[name]))
            else:
                part = None
            parts.append(self._masked(name, part, batch, elements))
        return ops.concatenate(parts, axis=1), None

    def _encode(self, name, value):
        if name == "audio":
            if len(value.shape) == 3:  # (batch, samples, 1)
                value = value[..., 0]
            return self.audio_adapter(value)[0]
        if name == "video":
            return self.video_adapter(value)[0]
        return ops.cast(value, self.compute_dtype)[:, None, :]

    def _padded(self, name, byte_array):
        padding = ops.cast(self.paddings[name], self.compute_dtype)
        shape = tuple(ops.shape(byte_array)[:2]) + (padding.shape[0],)
        padding = ops.broadcast_to(padding[None, None], shape)
        return ops.concatenate(
            [ops.cast(byte_array, self.compute_dtype), padding], axis=-1
        )

    def _masked(self, name, byte_array, batch, elements):
        """The modality's elements with the masked ones replaced by its
        token (all of them where `byte_array` is None: left out)."""
        rate = self.mask_probs.get(name, 0.0)
        if byte_array is not None and rate == 0:
            return byte_array
        token = ops.cast(self.mask_tokens[name], self.compute_dtype)
        token = ops.broadcast_to(
            token[None, None], (batch, elements, token.shape[0])
        )
        if byte_array is None or rate == 1:
            return token
        hidden = keras.random.uniform(
            (batch, elements, 1), seed=self.seed_generator
        ) < rate
        return ops.where(hidden, token, byte_array)

    def compute_output_shape(self, inputs_shape):
        elements = sum(count for count, _ in self.element_shapes().values())
        batch = next(iter(inputs_shape.values()))[0]
        return (batch, elements, self.common_channels), None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_frames": self.num_frames,
                "frame_size": tuple(self.frame_size),
                "audio_samples_per_frame": self.audio_samples_per_frame,
                "num_labels": self.num_labels,
                "num_channels": self.num_channels,
                "samples_per_patch": self.samples_per_patch,
                "video_patch_size": self.video_patch_size,
                "audio_num_bands": self.audio_adapter.num_bands,
                "video_num_bands": self.video_adapter.num_bands,
                "video_max_resolution": self.video_adapter.max_resolution,
                "min_padding_size": self.min_padding_size,
                "mask_probs": dict(self.mask_probs) or None,
                "embedding_initializer": keras.initializers.serialize(
                    self.embedding_initializer
                ),
                "seed": self.seed,
            }
        )
        return config


def _check_mask_probs(mask_probs):
    """`mask_probs` as a dict of rates (empty for None)."""
    if mask_probs is None:
        return {}
    if not isinstance(mask_probs, dict) or not set(mask_probs) <= set(
        MODALITIES
    ):
        raise ValueError(
            f"`mask_probs` must be a dict mapping modalities of "
            f"{list(MODALITIES)} to rates in [0, 1]. "
            f"Received: mask_probs={mask_probs!r}"
        )
    rates = {}
    for name, rate in mask_probs.items():
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or (
            not 0 <= rate <= 1
        ):
            raise ValueError(
                f"`mask_probs[{name!r}]` must be a rate in [0, 1]. "
                f"Received: {rate!r}"
            )
        rates[name] = float(rate)
    return rates
