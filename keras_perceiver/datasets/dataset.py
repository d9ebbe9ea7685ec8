import dataclasses

import keras
import numpy as np


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
        modality: str. What the inputs are: "image", "audio" (waveforms),
            "spectrogram", "points", "sequence" or "multimodal".
        modalities: dict or None. For multimodal data, the modality of each
            input, keyed as `x_train` is (for example `{"image": "image",
            "audio": "spectrogram"}`); None otherwise.
    """

    name: str
    x_train: object
    y_train: np.ndarray
    x_test: object
    y_test: np.ndarray
    class_names: list
    modality: str
    modalities: dict = None

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
        order = np.random.default_rng(seed).permutation(len(self.y_train))
        return dataclasses.replace(
            self,
            x_train=keras.tree.map_structure(
                lambda a: a[order], self.x_train
            ),
            y_train=self.y_train[order],
        )

    @property
    def input_shape(self):
        """Shape of one example (no batch axis); dicts for dict inputs."""
        return keras.tree.map_structure(lambda a: a.shape[1:], self.x_train)

