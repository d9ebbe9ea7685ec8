"""`FilePreprocessor`: files read as a data set's files were in training."""

import pathlib

import keras
import numpy as np

from keras_perceiver import modalities
from keras_perceiver.preprocessing.preprocessor import (
    Preprocessor,
    is_path,
    items_list,
)


@keras.saving.register_keras_serializable(package="keras_perceiver")
class FilePreprocessor(Preprocessor):
    """Files of one modality read into a model's inputs, as in training.

    `keras_perceiver.datasets` records, for data read from files, how each
    file becomes a model input: the modality and its settings (image size
    and channels, sample rate and clip length, points per cloud, sequence
    length, ...; see `keras_perceiver.datasets.file_inputs.preprocessing_for`).
    A model trained on them keeps this preprocessor, so files given to it
    later are read exactly as the training files were. The files are read
    by their modality (`keras_perceiver.modalities`: `Modality.read`,
    TensorFlow ops in a tf.data pipeline). Its config is the settings dict
    (the `input_preprocessing` of earlier releases).

    Args:
        modality: str. The modality of the files ("image", "audio",
            "points", "sequence", ...; "video" data come from TFDS, not
            files, and are refused when called).
        **settings: the modality's settings, e.g. `image_size=[32, 32],
            channels=3`.

    Call arguments:
        items: a file path (str or `pathlib.Path`) or a list of them, each
            with an extension of the modality.

    Returns:
        The batch of model inputs as NumPy arrays: an array (images) or a
        dict `{"inputs", "mask"}`.

    Example:

    >>> preprocessor = FilePreprocessor("image", image_size=[8, 8],
    ...                                 channels=1)
    >>> preprocessor(["cat.png", "dog.png"]).shape
    (2, 8, 8, 1)
    """

    def __init__(self, modality, **settings):
        if not isinstance(modality, str):
            raise ValueError(
                "`modality` must be the name of a modality, e.g. 'image'. "
                f"Received: modality={modality!r}"
            )
        self.modality = modality
        self.settings = {"modality": modality, **settings}

    def __call__(self, items):
        paths = items_list(items)
        batch = next(iter(self.stream(paths).batch(len(paths))))
        return keras.tree.map_structure(np.asarray, batch)

    def stream(self, paths):
        """A tf.data stream of the inputs of `paths`, decoded in parallel.

        Args:
            paths: list of file paths of the modality.

        Returns:
            An unbatched `tf.data.Dataset` of inputs, in the order of
            `paths`.

        Raises:
            ValueError: for an item that is not a path, or a file of
                another modality.

        Example:

        >>> stream = preprocessor.stream(["cat.png"]).batch(32)
        """
        import tensorflow as tf

        self._check_paths(paths)
        read = self._file_modality().read
        return tf.data.Dataset.from_tensor_slices(
            [str(path) for path in paths]
        ).map(lambda path: read(path, self.settings),
              num_parallel_calls=tf.data.AUTOTUNE)

    def inspect(self, path):
        """Checks one file as training did (`Modality.inspect`)."""
        return self._file_modality().inspect(path)

    def get_config(self):
        return dict(self.settings)

    def _file_modality(self):
        modality = modalities.get(self.modality)
        if not modality.extensions:
            readable = modalities.listed(
                [kind.plural for kind in modalities.with_files()], "and")
            raise ValueError(
                f"This preprocessor reads {modality.name} data, which do "
                f"not come in files; files can hold {readable}. Received: "
                f"modality={modality.name!r}"
            )
        return modality

    def _check_paths(self, paths):
        extensions = self._file_modality().extensions
        for path in paths:
            if not is_path(path):
                raise ValueError(
                    f"A FilePreprocessor takes file paths of "
                    f"{self.modality} files. Received: {path!r} of type "
                    f"{type(path).__name__}"
                )
            if pathlib.Path(path).suffix.lower() not in extensions:
                raise ValueError(
                    f"This preprocessor reads {self.modality} files "
                    f"({', '.join(extensions)}). Received: {path}"
                )
