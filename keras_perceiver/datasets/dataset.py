import dataclasses

import keras
import numpy as np

from keras_perceiver import modalities as modality_registry
from keras_perceiver.datasets.splits import shuffled_examples, split_validation


@dataclasses.dataclass
class Dataset:
    """A labelled data set split into training and test data.

    `x_train` / `x_test` are what `model.fit` and `model.predict` take: a
    NumPy array, or a dict of arrays (for example `{"inputs", "mask"}` for
    padded data, or one entry per modality).

    Attributes:
        name: str. The data set's name, as `keras_perceiver.datasets.load`
            knows it.
        x_train, y_train, x_test, y_test: the data; labels are int arrays.
        class_names: list of str, one per class.
        modality: str. What the inputs are: a modality of the registry
            `keras_perceiver.modalities` ("image", "audio" (waveforms),
            "spectrogram", "points", "sequence") or "multimodal".
        modalities: dict or None. For multimodal data, the modality of each
            input, keyed as `x_train` is (for example `{"image": "image",
            "audio": "spectrogram"}`); None otherwise.
        preprocessing: dict or None. For data read from files, how each
            file became an input (see `keras_perceiver.datasets.file_inputs`);
            None otherwise.

    Raises:
        ValueError: a `modality` (or, for multimodal data, a value of
            `modalities`) that the registry does not know.

    Example:

    >>> data = Dataset("toy", np.zeros((8, 4, 4, 1)), np.arange(8) % 2,
    ...                np.zeros((2, 4, 4, 1)), np.arange(2), ["a", "b"],
    ...                "image")
    >>> model = keras_perceiver.models.perceiver_for_dataset(data)
    >>> keras_perceiver.training.compile_for_classification(model)
    >>> model.fit(**data.fit_data(batch_size=4))
    """

    name: str
    x_train: object
    y_train: np.ndarray
    x_test: object
    y_test: np.ndarray
    class_names: list
    modality: str
    modalities: dict = None
    preprocessing: dict = None

    def __post_init__(self):
        modality_registry.check_data_modality(self.modality, self.modalities)

    @property
    def num_classes(self):
        return len(self.class_names)

    def with_shuffled_training_data(self, seed=0):
        """A copy whose training examples are in a fixed random order.

        Keras' `validation_split` holds out the *last* training examples,
        so data stored class by class would give a validation set of one
        class; shuffled once, it is a sample of every class.

        Args:
            seed: int. Seed of the order. Defaults to 0.
        """
        x_train, y_train = shuffled_examples(self.x_train, self.y_train,
                                             seed=seed)
        return dataclasses.replace(self, x_train=x_train, y_train=y_train)

    @property
    def input_shape(self):
        """Shape of one example (no batch axis); dicts for dict inputs."""
        return keras.tree.map_structure(lambda a: a.shape[1:], self.x_train)

    @property
    def num_train_examples(self):
        return len(self.y_train)

    @property
    def num_test_examples(self):
        return len(self.y_test)

    def fit_data(self, batch_size, validation_split=0.0):
        """`model.fit` arguments: the training arrays, the batch size and
        the last `validation_split` of the examples as validation data
        (`keras_perceiver.datasets.splits.split_validation`)."""
        (x, y), validation_data = split_validation(
            self.x_train, self.y_train, validation_split
        )
        return {"x": x, "y": y, "batch_size": batch_size,
                "validation_data": validation_data}

    def test_data(self, batch_size):
        """`model.evaluate` arguments for the test examples."""
        return {"x": self.x_test, "y": self.y_test, "batch_size": batch_size}

    def first_examples(self, count, split="train"):
        """The first `count` examples of a split as `(inputs, labels)`."""
        inputs, labels = ((self.x_train, self.y_train) if split == "train"
                          else (self.x_test, self.y_test))
        return (keras.tree.map_structure(lambda a: a[:count], inputs),
                labels[:count])

    def relabeled(self, class_names):
        """A copy whose labels index `class_names` (a model's classes)."""
        mapping = label_mapping(self.class_names, class_names)
        return dataclasses.replace(
            self, y_train=mapping[self.y_train], y_test=mapping[self.y_test],
            class_names=list(class_names),
        )

    def in_memory(self):
        """This data set (already in memory)."""
        return self


def label_mapping(class_names, model_class_names):
    """An int array taking each index of `class_names` to its index in
    `model_class_names`.

    Raises:
        ValueError: a class the model does not know.

    Example:

    >>> label_mapping(["dog", "cat"], ["cat", "dog", "fish"])
    array([1, 0])
    """
    unknown = [name for name in class_names if name not in model_class_names]
    if unknown:
        raise ValueError(
            f"The data hold labels the model never saw: {unknown}. The "
            f"model knows {list(model_class_names)}. Received: "
            f"{list(class_names)}"
        )
    return np.array([list(model_class_names).index(name)
                     for name in class_names], "int64")

