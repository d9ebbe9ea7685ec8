"""Model inputs from raw files, each read as its modality says.

A data set read from files records, in a `preprocessing` dict, how each
file becomes the model's input (image size and channels, sample rate and
clip length, points per cloud, sequence length). The trained model keeps
it as its `preprocessor` (a `keras_perceiver.preprocessing.FilePreprocessor`
of these settings), so files given to `predict` are read exactly as in
training.
Videos (from TFDS data sets; there are no video files to read) are
described the same way: frame size and channels, frames per video.

What a modality's files are and how they are read is the modality's own
(`keras_perceiver.modalities`: `Modality.extensions`, `inspect`,
`preprocessing`, `read`); the functions here ask the registry.
"""

import collections
import pathlib

from keras_perceiver import argument_checks, modalities
from keras_perceiver.preprocessing.preprocessor import as_preprocessor


def file_extensions(modality):
    """The file extensions of `modality`: `()` for a modality that does
    not come in files, or that is not registered.

    Example:

    >>> file_extensions("audio")
    ('.wav',)
    """
    known = modalities.MODALITIES.get(modality)
    return known.extensions if known else ()


def files_of(modality, paths):
    """The paths whose extension belongs to `modality`.

    Example:

    >>> files_of("audio", ["a.WAV", "b.png"])
    ['a.WAV']
    """
    extensions = file_extensions(modality)
    return [path for path in paths
            if pathlib.Path(path).suffix.lower() in extensions]


def has_data_extension(path):
    """Whether `path` has the extension of one of the file modalities.

    Example:

    >>> has_data_extension("cat.PNG"), has_data_extension("notes.md")
    (True, False)
    """
    suffix = pathlib.Path(path).suffix.lower()
    return any(suffix in modality.extensions
               for modality in modalities.with_files())


def detect_modality(paths, modality=None):
    """The modality of data files, from their extensions.

    An extension that several modalities share (`.npy`: point clouds or
    sequences) tells nothing; files with only such extensions need
    `modality`.

    Args:
        paths: list of paths, each with a data extension.
        modality: str or None. A modality that comes in files ("image",
            "audio", "points", "sequence", ...) to choose instead of
            detecting. Defaults to None.

    Returns:
        The modality.

    Raises:
        ValueError: files of several modalities, only files of shared
            extensions without `modality`, or no files.

    Example:

    >>> detect_modality(["cat/1.png", "dog/2.jpg"])
    'image'
    """
    file_modalities = {m.name: m for m in modalities.with_files()}
    if modality is not None:
        return argument_checks.check_choice("modality", modality,
                                            file_modalities)
    owners = collections.defaultdict(list)
    for file_modality in file_modalities.values():
        for extension in file_modality.extensions:
            owners[extension].append(file_modality)
    suffixes = [pathlib.Path(path).suffix.lower() for path in paths]
    counts = collections.Counter(
        owners[suffix][0].name for suffix in suffixes
        if len(owners[suffix]) == 1
    )
    if len(counts) > 1:
        found = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        raise ValueError(
            "The files must all be of one modality; keep one kind or choose "
            f"one with `modality`. Received: {found} files"
        )
    if counts:
        return next(iter(counts))
    if paths:
        shared = sorted(set(suffixes))
        sharing = [m for m in file_modalities.values()
                   if set(shared) & set(m.extensions)]
        raise ValueError(
            f"{' and '.join(shared)} files can hold "
            f"{modalities.listed([m.plural for m in sharing], 'or')}: "
            "choose with `modality` "
            f"({modalities.listed([repr(m.name) for m in sharing], 'or')}). "
            f"Received: only {' and '.join(shared)} files"
        )
    extensions = sorted({extension for extension in owners})
    raise ValueError(
        "No data files found. Expected files with the extensions "
        f"{extensions}. Received: none"
    )


def inspect_files(paths, modality, skip_bad_files=False, inspect=None):
    """Opens every file once: checks it and reads what preprocessing needs.

    Args:
        paths: list of str. Files of `modality`.
        modality: str. A modality that comes in files.
        skip_bad_files: bool. Leave unreadable files out instead of
            raising. Defaults to False.
        inspect: callable or None. Checks one file and returns its facts,
            raising ValueError if it cannot be read. Defaults to the
            modality's own check (`Modality.inspect`), which, for images,
            also decodes them as the training pipeline does (with
            TensorFlow).

    Returns:
        `(readable_paths, facts, skipped_paths)`: `facts[i]` describes
        `readable_paths[i]` (image `(height, width, mode)`, audio
        `(sample_rate, num_samples)`, point count, sequence shape).

    Raises:
        ValueError: naming the first unreadable file, unless
            `skip_bad_files`.

    Example:

    >>> readable, facts, skipped = inspect_files(["a.wav"], "audio")
    >>> facts
    [(8000, 4096)]
    """
    inspector = inspect or modalities.get(modality).inspect
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


def preprocessing_for(modality, facts, image_size=None,
                      audio_features="waveform", max_length=None,
                      num_points=1024):
    """How files become model inputs, chosen from what the files hold.

    Each modality takes the options it uses (`Modality.preprocessing`).

    Args:
        modality: str. "image", "audio", "points", "sequence", "video" or
            another modality with a `preprocessing`.
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

    Example:

    >>> preprocessing_for("sequence", [(7, 2), (9, 2)])
    {'modality': 'sequence', 'num_features': 2, 'max_length': 9}
    """
    argument_checks.check_choice(
        "modality", modality, [m.name for m in modalities.MODALITIES.values()
                               if m.preprocessing is not None])
    return modalities.get(modality).preprocessing(
        facts, image_size=image_size, audio_features=audio_features,
        max_length=max_length, num_points=num_points,
    )


def input_modality(preprocessing):
    """The `Dataset.modality` of inputs made with `preprocessing`.

    Example:

    >>> input_modality({"modality": "audio", "audio_features": "log_mel"})
    'spectrogram'
    """
    return modalities.get(preprocessing["modality"]).inputs_modality(
        preprocessing)


def inputs_from_file(path, preprocessing):
    """The model input read from one file, inside a tf.data pipeline.

    Args:
        path: string tensor. The file.
        preprocessing: dict from `preprocessing_for`.

    Returns:
        A float32 tensor (images) or a dict `{"inputs", "mask"}`.

    Example:

    >>> inputs_from_file(tf.constant("cat.png"), preprocessing)
    """
    return modalities.get(preprocessing["modality"]).read(path, preprocessing)


def read_files(paths, preprocessing):
    """A tf.data stream of the model inputs of `paths`, decoded in parallel.

    `FilePreprocessor.stream` of the settings `preprocessing`.

    Args:
        paths: list of str.
        preprocessing: dict from `preprocessing_for` (a model's
            `input_preprocessing`), or a `FilePreprocessor`.

    Returns:
        An unbatched `tf.data.Dataset` of inputs, in the order of `paths`.

    Raises:
        ValueError: for a path of another modality.

    Example:

    >>> stream = read_files(["cat.png"], {"modality": "image",
    ...                     "image_size": [32, 32], "channels": 3})
    """
    return as_preprocessor(preprocessing).stream(paths)
