import dataclasses

import keras
import numpy as np

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.dataset import LabelledData
from keras_perceiver.datasets.dataset import label_mapping
from keras_perceiver.datasets.splits import num_fitted_examples


@dataclasses.dataclass
class StreamedDataset(LabelledData):
    """A labelled data set read from storage while it is used, with tf.data.

    Nothing is loaded whole: each pass reads the examples again, decoding
    them in parallel and prefetching batches, so data larger than memory
    trains in constant memory. Keras 3 `fit`, `evaluate` and `predict`
    take tf.data streams on every backend. It answers the same questions
    as the in-memory `Dataset` (`fit_data`, `test_data`, `first_examples`,
    `relabeled`), and `in_memory()` turns it into one.

    Attributes:
        name: str. Where the data come from.
        modality: str. As `Dataset.modality`.
        class_names: list of str, one per class.
        num_train_examples, num_test_examples: int.
        read: callable `(split, start, stop, shuffle)` returning an
            unbatched `tf.data.Dataset` of `(inputs, label)` for examples
            `start` to `stop` of "train" or "test" (in a fixed order, or
            shuffled anew each pass).
        preprocessing: dict or None. How files become inputs (see
            `keras_perceiver.datasets.file_inputs`); kept in models trained
            on the data so that `predict` reads files the same way.
        skipped_files: list of str. Unreadable files left out.
        modalities: None (kept for `Dataset`'s interface).

    Example:

    >>> data = keras_perceiver.datasets.load_source("photos/")
    >>> model.fit(**data.fit_data(batch_size=32, validation_split=0.1),
    ...           epochs=3)
    """

    name: str
    modality: str
    class_names: list
    num_train_examples: int
    num_test_examples: int
    read: object
    preprocessing: dict = None
    skipped_files: list = dataclasses.field(default_factory=list)
    modalities: dict = None

    @property
    def input_shape(self):
        """Shape of one example (no batch axis); dicts for dict inputs."""
        spec = self.read("train", 0, 1, False).element_spec[0]
        return keras.tree.map_structure(lambda s: tuple(s.shape), spec)

    def fit_data(self, batch_size, validation_split=0.0):
        """`model.fit` arguments: a shuffled training stream, and the last
        `validation_split` of the training examples as validation data."""
        num_fitted = num_fitted_examples(self.num_train_examples,
                                         validation_split)
        arguments = {
            "x": self._batches("train", 0, num_fitted, batch_size,
                               shuffle=True),
            "shuffle": False,  # the stream shuffles itself, every pass
        }
        if num_fitted < self.num_train_examples:
            arguments["validation_data"] = self._batches(
                "train", num_fitted, self.num_train_examples, batch_size
            )
        return arguments

    def test_data(self, batch_size):
        """`model.evaluate` arguments for the test examples."""
        return {"x": self._batches("test", 0, self.num_test_examples,
                                   batch_size)}

    def first_examples(self, count, split="train"):
        """The first `count` examples of a split as NumPy `(inputs, labels)`."""
        batch = next(iter(self.read(split, 0, count, False).batch(count)))
        return keras.tree.map_structure(np.asarray, batch)

    def relabeled(self, class_names):
        """A copy whose labels index `class_names` (a model's classes)."""
        import tensorflow as tf

        mapping = tf.constant(label_mapping(self.class_names, class_names))
        read = self.read

        def read_relabeled(*arguments):
            return read(*arguments).map(
                lambda inputs, label: (inputs, tf.gather(mapping, label))
            )

        return dataclasses.replace(self, read=read_relabeled,
                                   class_names=list(class_names))

    def in_memory(self):
        """The same data as an in-memory `Dataset` of NumPy arrays."""
        x_train, y_train = self._arrays("train", self.num_train_examples)
        x_test, y_test = self._arrays("test", self.num_test_examples)
        return Dataset(
            name=self.name, x_train=x_train, y_train=y_train, x_test=x_test,
            y_test=y_test, class_names=self.class_names,
            modality=self.modality, preprocessing=self.preprocessing,
        )

    def _arrays(self, split, count):
        batches = list(self._batches(split, 0, count, 1024))
        return keras.tree.map_structure(
            lambda *parts: np.concatenate([np.asarray(p) for p in parts]),
            *batches,
        )

    def _batches(self, split, start, stop, batch_size, shuffle=False):
        import tensorflow as tf

        return (
            self.read(split, start, stop, shuffle)
            .batch(batch_size, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )
