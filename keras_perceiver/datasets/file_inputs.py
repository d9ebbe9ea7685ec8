"""Model inputs from raw files: images, WAV audio, point clouds, sequences.

A data set read from files records, in a `preprocessing` dict, how each
file becomes the model's input (image size and channels, sample rate and
clip length, points per cloud, sequence length). The trained model keeps
that dict, so files given to `predict` are read exactly as in training.
Videos (from TFDS data sets; there are no video files to read) are
described the same way: frame size and channels, frames per video.

Each modality that comes in files has one `FileFormat` in `FILE_FORMATS`
(its extensions, its check, its reader), keyed by its name in the registry
`keras_perceiver.modalities`.
"""

import collections
import dataclasses
import pathlib
import wave
from typing import Callable

import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.datasets.image_files import load_image_file
from keras_perceiver.datasets.log_mel import log_mel_spectrograms
from keras_perceiver.datasets.point_cloud_files import (
    POINT_CLOUD_EXTENSIONS,
    read_point_cloud,
)
from keras_perceiver.datasets.sequence_files import (
    SEQUENCE_EXTENSIONS,
    read_sequence,
)

AUDIO_FEATURES = ("waveform", "log_mel")
GREY_IMAGE_MODES = ("1", "L", "I", "I;16", "F")
POINT_SAMPLING_SEED = 0
LOG_MEL_SAMPLES = 256  # samples of 4 log-mel frames (frame step 64)
# Frames per patch of the VideoAdapter's default patch size, (2, 8, 8).
VIDEO_FRAMES_PER_PATCH = 2


@dataclasses.dataclass(frozen=True)
class FileFormat:
    """How the files of one modality are recognised, checked and read.

    `FILE_FORMATS` holds one per modality that comes in files, keyed by
    the modality's name in `keras_perceiver.modalities`; a new kind of file
    is one entry there.

    Args:
        extensions: tuple of str. The lower-case file extensions.
        inspect: callable `path -> facts`. Opens a file once; raises
            `ValueError` naming the file if it cannot be read, else returns
            what `preprocessing_for` needs (image size and mode, sample
            rate and length, point count, sequence shape).
        read: callable `(path, preprocessing) -> inputs`. TensorFlow ops
            that read one file (a string tensor) in a tf.data pipeline.

    Example:

    >>> FILE_FORMATS["audio"].extensions
    ('.wav',)
    """

    extensions: tuple
    inspect: Callable
    read: Callable


def files_of(modality, paths):
    """The paths whose extension belongs to `modality`."""
    extensions = FILE_FORMATS[modality].extensions
    return [path for path in paths
            if pathlib.Path(path).suffix.lower() in extensions]


def has_data_extension(path):
    """Whether `path` has the extension of one of the file modalities."""
    suffix = pathlib.Path(path).suffix.lower()
    return any(suffix in file_format.extensions
               for file_format in FILE_FORMATS.values())


def detect_modality(paths, modality=None):
    """The modality of data files, from their extensions.

    Args:
        paths: list of paths, each with a data extension.
        modality: str or None. "image", "audio", "points" or "sequence"
            to choose instead of detecting. Defaults to None.

    Returns:
        The modality.

    Raises:
        ValueError: files of several modalities, only `.npy` files (point
            clouds or sequences) without `modality`, or no files.

    Example:

    >>> detect_modality(["cat/1.png", "dog/2.jpg"])
    'image'
    """
    if modality is not None:
        return argument_checks.check_choice("modality", modality,
                                            FILE_FORMATS)
    counts = collections.Counter()
    for path in paths:
        suffix = pathlib.Path(path).suffix.lower()
        for kind, file_format in FILE_FORMATS.items():
            if suffix in file_format.extensions and suffix != ".npy":
                counts[kind] += 1
    if len(counts) > 1:
        found = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        raise ValueError(
            "The files must all be of one modality; keep one kind or choose "
            f"one with `modality`. Received: {found} files"
        )
    if counts:
        return next(iter(counts))
    if paths:
        raise ValueError(
            ".npy files can hold point clouds or sequences: choose with "
            "`modality` ('points' or 'sequence'). Received: only .npy files"
        )
    extensions = sorted({extension for file_format in FILE_FORMATS.values()
                         for extension in file_format.extensions})
    raise ValueError(
        "No data files found. Expected files with the extensions "
        f"{extensions}. Received: none"
    )


def inspect_files(paths, modality, skip_bad_files=False, inspect=None):
    """Opens every file once: checks it and reads what preprocessing needs.

    Args:
        paths: list of str. Files of `modality`.
        modality: str. "image", "audio", "points" or "sequence".
        skip_bad_files: bool. Leave unreadable files out instead of
            raising. Defaults to False.
        inspect: callable or None. Checks one file and returns its facts,
            raising ValueError if it cannot be read. Defaults to the
            modality's own check, which, for images, also decodes them as
            the training pipeline does (with TensorFlow).

    Returns:
        `(readable_paths, facts, skipped_paths)`: `facts[i]` describes
        `readable_paths[i]` (image `(height, width, mode)`, audio
        `(sample_rate, num_samples)`, point count, sequence shape).

    Raises:
        ValueError: naming the first unreadable file, unless
            `skip_bad_files`.
    """
    inspector = inspect or FILE_FORMATS[modality].inspect
    readable, facts, skipped = [], [], []
    for path in paths:
        try:
            facts.append(inspector(path))
        except ValueError as error:
            if not skip_bad_files:
                raise ValueError(
                    f"{error} Leave such files out with skip_bad_files=True "
                    "(--skip-bad-files)."
                ) from None
            skipped.append(path)
            continue
        readable.append(path)
    return readable, facts, skipped


def _inspect_image(path):
    """Height, width and mode of an image that decodes whole, with Pillow
    and then with the decoder of training: a file cut short after a valid
    header is refused here, not in the middle of an epoch. Pillow decodes
    first, so that TensorFlow, which logs what it cannot decode, meets
    only files that decode."""
    import tensorflow as tf

    image = load_image_file(path)
    try:
        _decode_image(str(path))
    except tf.errors.OpError as error:
        raise ValueError(
            f"{path} is not a readable image ({type(error).__name__})."
        ) from None
    return image.height, image.width, image.mode


def _inspect_wav(path):
    try:
        with wave.open(str(path)) as file:
            if file.getsampwidth() != 2:
                raise ValueError("expected 16-bit PCM")
            return file.getframerate(), file.getnframes()
    except (wave.Error, EOFError, OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable 16-bit PCM WAV file ({error})."
        ) from None


def preprocessing_for(modality, facts, image_size=None,
                      audio_features="waveform", max_length=None,
                      num_points=1024):
    """How files become model inputs, chosen from what the files hold.

    Args:
        modality: str. "image", "audio", "points", "sequence" or "video".
        facts: list, as `inspect_files` returns them; for videos
            `(num_frames, height, width, mode)`.
        image_size: int, `(height, width)` or None. Size images and video
            frames are resized to. Defaults to None: the most common size.
        audio_features: str. "waveform" or "log_mel". Defaults to
            "waveform".
        max_length: int or None. Samples per audio clip, steps per
            sequence or frames per video (longer ones are cut, shorter ones
            padded and masked); for log-mel spectrograms rounded up to a
            multiple of 256 samples (4 frames, one spectrogram patch), for
            videos to an even number of frames (whole 2-frame video
            patches). Defaults to None: the longest.
        num_points: int. Points per cloud (larger clouds are sampled,
            smaller ones padded and masked). Defaults to 1024.

    Returns:
        A JSON-serialisable dict for `inputs_from_file`.
    """
    argument_checks.check_choice("modality", modality, PREPROCESSINGS)
    return PREPROCESSINGS[modality](
        facts, image_size=image_size, audio_features=audio_features,
        max_length=max_length, num_points=num_points,
    )


def _image_preprocessing(facts, image_size, **_):
    if image_size is None:
        sizes = collections.Counter((height, width) for height, width, _
                                    in facts)
        image_size = sizes.most_common(1)[0][0]
    elif isinstance(image_size, int):
        image_size = (image_size, image_size)
    height, width = (argument_checks.check_positive_int("image_size", side)
                     for side in image_size)
    grey = all(mode in GREY_IMAGE_MODES for *_, mode in facts)
    return {"modality": "image", "image_size": [height, width],
            "channels": 1 if grey else 3}


def _video_preprocessing(facts, image_size, max_length, **_):
    frames = _image_preprocessing(
        [(height, width, mode) for _, height, width, mode in facts],
        image_size,
    )
    length = _length(max_length, [num_frames for num_frames, *_ in facts])
    return {**frames, "modality": "video",
            "max_length": _rounded_up(length, VIDEO_FRAMES_PER_PATCH)}


def _audio_preprocessing(facts, audio_features, max_length, **_):
    argument_checks.check_choice("audio_features", audio_features,
                                 AUDIO_FEATURES)
    rates = sorted({rate for rate, _ in facts})
    if len(rates) > 1:
        raise ValueError(
            "The WAV files must share one sample rate; resample them "
            f"first. Received: sample rates {rates}"
        )
    length = _length(max_length, [n for _, n in facts])
    if audio_features == "log_mel":
        # Whole 4-frame spectrogram patches: a multiple of 4 x 64 samples.
        length = _rounded_up(length, LOG_MEL_SAMPLES)
    return {"modality": "audio", "sample_rate": rates[0],
            "max_length": length, "audio_features": audio_features}


def _point_cloud_preprocessing(facts, num_points, **_):
    return {"modality": "points",
            "num_points": argument_checks.check_positive_int("num_points",
                                                             num_points)}


def _sequence_preprocessing(facts, max_length, **_):
    widths = sorted({shape[1] for shape in facts})
    if len(widths) > 1:
        raise ValueError(
            "The sequences must all have the same number of features. "
            f"Received: {widths} features"
        )
    return {"modality": "sequence", "num_features": widths[0],
            "max_length": _length(max_length, [s[0] for s in facts])}


def _rounded_up(length, multiple):
    return -(-length // multiple) * multiple


def _length(max_length, lengths):
    if max_length is None:
        return int(max(lengths))
    return argument_checks.check_positive_int("max_length", max_length)


def input_modality(preprocessing):
    """The `Dataset.modality` of inputs made with `preprocessing`."""
    if preprocessing.get("audio_features") == "log_mel":
        return "spectrogram"
    return preprocessing["modality"]


def inputs_from_file(path, preprocessing):
    """The model input read from one file, inside a tf.data pipeline.

    Args:
        path: string tensor. The file.
        preprocessing: dict from `preprocessing_for`.

    Returns:
        A float32 tensor (images) or a dict `{"inputs", "mask"}`.
    """
    return FILE_FORMATS[preprocessing["modality"]].read(path, preprocessing)


def _read_image(path, preprocessing):
    return prepare_image(_decode_image(path), preprocessing)


def _read_wav(path, preprocessing):
    import tensorflow as tf

    samples, _ = tf.audio.decode_wav(tf.io.read_file(path),
                                     desired_channels=1)
    return prepare_audio(samples[:, 0], preprocessing)


def _read_point_cloud(path, preprocessing):
    return _numpy_inputs(_point_cloud_inputs, path, preprocessing,
                         (preprocessing["num_points"], 3))


def _read_sequence(path, preprocessing):
    return _numpy_inputs(
        _sequence_inputs, path, preprocessing,
        (preprocessing["max_length"], preprocessing["num_features"]),
    )


def _decode_image(path):
    """The image file's pixels, `(height, width, channels)` (TensorFlow)."""
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(path), channels=0,
                              expand_animations=False)


def prepare_image(image, preprocessing):
    """Resizes a decoded image and scales it to [0, 1] (TensorFlow ops).

    Any number of channels becomes `preprocessing["channels"]`: grey to RGB
    by repetition, RGB to grey by luminance, alpha dropped. `image` may
    have leading axes, e.g. video frames `(frames, height, width,
    channels)`.
    """
    import tensorflow as tf

    rgb = tf.cond(
        tf.shape(image)[-1] < 3,
        lambda: tf.image.grayscale_to_rgb(image[..., :1]),
        lambda: image[..., :3],
    )
    if preprocessing["channels"] == 1:
        rgb = tf.image.rgb_to_grayscale(rgb)
    resized = tf.image.resize(tf.cast(rgb, "float32"),
                              preprocessing["image_size"])
    return tf.ensure_shape(
        resized / 255.0,
        (*image.shape[:-3], *preprocessing["image_size"],
         preprocessing["channels"]),
    )


def prepare_video(frames, preprocessing):
    """Frames `(frames, height, width, channels)` resized and scaled like
    images, cut or padded to `max_length` frames and masked over frames
    (TensorFlow ops)."""
    return cut_or_padded(prepare_image(frames, preprocessing),
                         preprocessing["max_length"])


def cut_or_padded(values, length):
    """`{"inputs", "mask"}`: `values` cut or padded with zeros along the
    first axis to `length`, and True for its real entries (TensorFlow ops).
    """
    import tensorflow as tf

    values = values[:length]
    count = tf.shape(values)[0]
    padding = [[0, length - count]] + [[0, 0]] * (values.shape.rank - 1)
    return {"inputs": tf.ensure_shape(tf.pad(values, padding),
                                      (length, *values.shape[1:])),
            "mask": tf.range(length) < count}


def prepare_audio(samples, preprocessing):
    """Cuts or pads a clip in [-1, 1] to `max_length` samples with a mask,
    and makes log-mel spectrograms of it if asked (TensorFlow ops)."""
    import tensorflow as tf

    length = preprocessing["max_length"]
    clip = cut_or_padded(tf.cast(samples, "float32"), length)
    if preprocessing["audio_features"] == "waveform":
        return clip
    rate = preprocessing["sample_rate"]

    def log_mel(waveform, mask):
        spectrogram, frame_mask = log_mel_spectrograms(
            waveform[None], mask[None], rate
        )
        return spectrogram[0], frame_mask[0]

    spectrogram, frame_mask = tf.numpy_function(
        log_mel, [clip["inputs"], clip["mask"]], ["float32", "bool"]
    )
    num_frames = length // 64  # log_mel_spectrograms' frame step
    return {"inputs": tf.ensure_shape(spectrogram, (num_frames, 64)),
            "mask": tf.ensure_shape(frame_mask, (num_frames,))}


def _numpy_inputs(reader, path, preprocessing, shape):
    import tensorflow as tf

    inputs, mask = tf.numpy_function(
        lambda path: reader(path.decode(), preprocessing), [path],
        ["float32", "bool"],
    )
    return {"inputs": tf.ensure_shape(inputs, shape),
            "mask": tf.ensure_shape(mask, shape[:1])}


def _point_cloud_inputs(path, preprocessing):
    """A cloud centred, scaled into the unit sphere, sampled without
    replacement to `num_points` points (a fixed sample per cloud size) or
    padded with a mask."""
    points = read_point_cloud(path)
    points = points - points.mean(axis=0)
    points /= max(float(np.linalg.norm(points, axis=1).max()), 1e-12)
    count = preprocessing["num_points"]
    if len(points) > count:
        rng = np.random.default_rng(POINT_SAMPLING_SEED)
        points = points[np.sort(rng.choice(len(points), count, False))]
    return _padded(points.astype("float32"), count)


def _sequence_inputs(path, preprocessing):
    steps = read_sequence(path)[: preprocessing["max_length"]]
    return _padded(steps, preprocessing["max_length"])


def _padded(rows, length):
    padded = np.zeros((length, rows.shape[1]), "float32")
    padded[: len(rows)] = rows
    return padded, np.arange(length) < len(rows)


def read_files(paths, preprocessing):
    """A tf.data stream of the model inputs of `paths`, decoded in parallel.

    Args:
        paths: list of str.
        preprocessing: dict from `preprocessing_for`, or a model's
            `input_preprocessing`.

    Returns:
        An unbatched `tf.data.Dataset` of inputs, in the order of `paths`.

    Example:

    >>> stream = read_files(["cat.png"], {"modality": "image",
    ...                     "image_size": [32, 32], "channels": 3})
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices([str(p) for p in paths]).map(
        lambda path: inputs_from_file(path, preprocessing),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


FILE_FORMATS = {
    "image": FileFormat(
        extensions=(".png", ".jpg", ".jpeg", ".bmp", ".gif"),
        inspect=_inspect_image,
        read=_read_image,
    ),
    "audio": FileFormat(
        extensions=(".wav",), inspect=_inspect_wav, read=_read_wav
    ),
    "points": FileFormat(
        extensions=POINT_CLOUD_EXTENSIONS,
        inspect=lambda path: len(read_point_cloud(path)),
        read=_read_point_cloud,
    ),
    "sequence": FileFormat(
        extensions=SEQUENCE_EXTENSIONS,
        inspect=lambda path: read_sequence(path).shape,
        read=_read_sequence,
    ),
}

# How each modality's inputs are made, from the facts `inspect_files` (or a
# TFDS feature) gives and the options of `preprocessing_for`; each takes
# the options it uses by name and ignores the rest.
PREPROCESSINGS = {
    "image": _image_preprocessing,
    "video": _video_preprocessing,
    "audio": _audio_preprocessing,
    "points": _point_cloud_preprocessing,
    "sequence": _sequence_preprocessing,
}
