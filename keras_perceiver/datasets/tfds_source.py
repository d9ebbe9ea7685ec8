"""Any prepared TensorFlow Datasets data set, read as a tf.data stream."""

from keras_perceiver import modalities
from keras_perceiver.datasets import file_inputs
from keras_perceiver.datasets.streamed_dataset import StreamedDataset

# Examples read to choose the sizes that the features leave open.
INSPECTED_EXAMPLES = 1000


def load_tfds(name, data_dir=None, label_feature=None, input_feature=None,
              train_split="train", test_split=None, image_size=None,
              audio_features="waveform", max_length=None, test_fraction=0.2):
    """A TensorFlow Datasets data set, streamed (never downloaded).

    The data set must be prepared in `data_dir` (with `tfds build NAME
    --data_dir DIR` or `tfds.load(..., download=True)`). Its features
    decide the modality: an `Image` feature gives images (scaled to [0, 1],
    resized to `image_size`), an `Audio` feature waveforms or log-mel
    spectrograms (cut or padded to `max_length` samples, masked), a `Video`
    feature videos `(frames, height, width, channels)` (frames scaled to
    [0, 1] and resized to `image_size`, cut or padded to `max_length`
    frames, rounded up to an even number, and masked over frames), a float
    `Tensor` of shape `(steps, features)` or `(steps,)` sequences. The label
    is the `ClassLabel` feature, whose names become the class names. The
    test split is `test_split`, else "test" or "validation" when the data
    set has one, else the last `test_fraction` of `train_split`.

    Args:
        name: str. The TFDS name, e.g. "fashion_mnist" or "spoken_digit".
        data_dir: str or None. The TFDS data directory. Defaults to None
            (TFDS's default, `~/tensorflow_datasets`).
        label_feature: str or None. Defaults to None: the one `ClassLabel`.
        input_feature: str or None. Defaults to None: the first image,
            audio, video or sequence feature.
        train_split: str. Defaults to "train".
        test_split: str or None. Defaults to None.
        image_size: int, `(height, width)` or None. Size of images and
            video frames. Defaults to None: the feature's size, or the most
            common among the first 1,000 examples.
        audio_features: str. "waveform" or "log_mel". Defaults to
            "waveform".
        max_length: int or None. Audio samples, sequence steps or video
            frames. Defaults to None: the feature's length, or the longest
            of the first 1,000 examples.
        test_fraction: float in (0, 1). Defaults to 0.2.

    Returns:
        A `StreamedDataset`.

    Example:

    >>> data = load_tfds("fashion_mnist", data_dir="~/tensorflow_datasets")
    """
    builder = _prepared_builder(name, data_dir)
    features = builder.info.features
    label_feature = _label_feature(features, label_feature, name)
    input_feature, modality = _input_feature(features, input_feature,
                                             label_feature, name)
    ranges = _split_ranges(builder, train_split, test_split, test_fraction)

    def read(split, start, stop, shuffle, prepare=None, decoders=None):
        base, first, last = ranges[split]
        stream = builder.as_dataset(
            split=f"{base}[{first + start}:{min(first + stop, last)}]",
            shuffle_files=shuffle,
            decoders=decoders and {input_feature: decoders},
        )
        if shuffle:
            stream = stream.shuffle(4096)
        return stream.map(
            lambda example: (
                (prepare or (lambda x: x))(example[input_feature]),
                example[label_feature],
            ),
            num_parallel_calls=_autotune(),
        )

    preprocessing = _preprocessing(
        features[input_feature], modality, read, image_size, audio_features,
        max_length,
    )
    prepare = _preparer(preprocessing)
    return StreamedDataset(
        name=name,
        modality=file_inputs.input_modality(preprocessing),
        class_names=list(features[label_feature].names),
        num_train_examples=ranges["train"][2] - ranges["train"][1],
        num_test_examples=ranges["test"][2] - ranges["test"][1],
        read=lambda *arguments: read(*arguments, prepare=prepare),
        preprocessing=preprocessing,
    )


def _autotune():
    import tensorflow as tf

    return tf.data.AUTOTUNE


def _prepared_builder(name, data_dir):
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ValueError(
            "TFDS data sets need tensorflow-datasets (pip install "
            f"'keras-perceiver[tfds]'). Received: tfds:{name}"
        ) from None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"TensorFlow Datasets has no data set {name!r}. Received: "
            f"tfds:{name}"
        ) from None
    if not builder.is_prepared():
        raise ValueError(
            f"The TFDS data set {name} is not prepared in "
            f"{data_dir or 'the default data directory'}; prepare it first "
            f"(tfds build {name} --data_dir DIR), keras-perceiver never "
            f"downloads. Received: tfds:{name}, data_dir={data_dir!r}"
        )
    return builder


def _label_feature(features, label_feature, name):
    import tensorflow_datasets as tfds

    labels = [key for key, feature in features.items()
              if isinstance(feature, tfds.features.ClassLabel)]
    if label_feature is None and len(labels) == 1:
        return labels[0]
    if label_feature in labels:
        return label_feature
    raise ValueError(
        f"Name the label feature of tfds:{name} with label_feature "
        f"(--label-feature), one of its ClassLabel features {labels}. "
        f"Received: label_feature={label_feature!r}"
    )


def _input_feature(features, input_feature, label_feature, name):
    """The input feature's name and its modality."""
    candidates = {key: _feature_modality(feature)
                  for key, feature in features.items() if key != label_feature}
    usable = [key for key, kind in candidates.items() if kind is not None]
    if input_feature is None and usable:
        input_feature = usable[0]
    if input_feature not in usable:
        raise ValueError(
            f"The input of tfds:{name} must be an image, audio, video or "
            f"sequence feature, one of {usable}. Received: "
            f"input_feature={input_feature!r}"
        )
    return input_feature, candidates[input_feature]


def _feature_modality(feature):
    import tensorflow_datasets as tfds

    if isinstance(feature, tfds.features.Image):
        return "image"
    if isinstance(feature, tfds.features.Video):
        return "video"
    if isinstance(feature, tfds.features.Audio):
        return "audio"
    if (type(feature) is tfds.features.Tensor
            and feature.dtype.is_floating and len(feature.shape) in (1, 2)):
        return "sequence"
    return None


def _split_ranges(builder, train_split, test_split, test_fraction):
    """`{"train": (split, first, stop), "test": (...)}` in examples."""
    splits = builder.info.splits
    for split in (train_split, test_split):
        if split is not None and split not in splits:
            raise ValueError(
                f"{builder.name} has the splits {sorted(splits)}. "
                f"Received: {split!r}"
            )
    if test_split is None:
        test_split = next(
            (split for split in ("test", "validation")
             if split in splits and split != train_split), None
        )
    num_train = splits[train_split].num_examples
    if test_split is not None:
        return {"train": (train_split, 0, num_train),
                "test": (test_split, 0, splits[test_split].num_examples)}
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            "`test_fraction` must be between 0 and 1. Received: "
            f"test_fraction={test_fraction}"
        )
    num_fitted = num_train - max(1, int(round(num_train * test_fraction)))
    return {"train": (train_split, 0, num_fitted),
            "test": (train_split, num_fitted, num_train)}


def _preprocessing(feature, modality, read, image_size, audio_features,
                   max_length):
    """`file_inputs` preprocessing, with the sizes the feature leaves open
    taken from the first examples."""
    if modality == "video":
        return _video_preprocessing(feature, read, image_size, max_length)
    if modality == "image":
        height, width, channels = feature.shape
        if image_size is None and None not in (height, width):
            image_size = (height, width)
        facts = _first_values(read, lambda x: x.shape[:2] + ("RGB",),
                              image_size is None)
        preprocessing = file_inputs.preprocessing_for(
            "image", facts or [(0, 0, "RGB")], image_size=image_size
        )
        preprocessing["channels"] = 1 if channels == 1 else 3
        return preprocessing
    lengths = _first_values(read, lambda x: len(x), max_length is None)
    if modality == "audio":
        facts = [(feature.sample_rate, n) for n in lengths or [max_length]]
        return file_inputs.preprocessing_for(
            "audio", facts, audio_features=audio_features,
            max_length=max_length,
        )
    width = 1 if len(feature.shape) == 1 else feature.shape[1]
    facts = [(n, width) for n in lengths or [max_length]]
    return file_inputs.preprocessing_for("sequence", facts,
                                         max_length=max_length)


def _video_preprocessing(feature, read, image_size, max_length):
    """Video preprocessing: the feature's frame count and size where it
    fixes them, else the first examples' (read undecoded: frame count and
    the first frame's size)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    num_frames, height, width, channels = feature.shape
    max_length = max_length or num_frames
    if image_size is None and None not in (height, width):
        image_size = (height, width)
    facts = _first_values(
        read,
        lambda frames: (len(frames),
                        *tf.io.decode_image(frames[0]).shape[:2], "RGB"),
        None in (image_size, max_length),
        decoders=tfds.decode.SkipDecoding(),
    )
    preprocessing = file_inputs.preprocessing_for(
        "video", facts or [(max_length, 0, 0, "RGB")],
        image_size=image_size, max_length=max_length,
    )
    preprocessing["channels"] = 1 if channels == 1 else 3
    return preprocessing


def _first_values(read, value, needed, decoders=None):
    if not needed:
        return []
    stream = read("train", 0, INSPECTED_EXAMPLES, False, decoders=decoders)
    return [value(x.numpy()) for x, _ in stream]


def _preparer(preprocessing):
    """A TensorFlow function from the feature's values to model inputs:
    the modality's `prepare`."""
    prepare = modalities.get(preprocessing["modality"]).prepare
    return lambda values: prepare(values, preprocessing)
