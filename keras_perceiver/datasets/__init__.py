"""Real data sets, ready for `model.fit`.

`load(name, data_dir=None, **options)` returns a `Dataset`. Each loader
reads a local copy when given `data_dir`, or the usual public source
otherwise.
"""

import inspect

from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.datasets.cifar10 import load_cifar10
from keras_perceiver.datasets.digits import load_digits
from keras_perceiver.datasets.fsdd import load_fsdd
from keras_perceiver.datasets.mnist import load_mnist
from keras_perceiver.datasets.mnist_fsdd import load_mnist_fsdd
from keras_perceiver.datasets.modelnet40 import load_modelnet40
from keras_perceiver.datasets.msr_action3d import load_msr_action3d

LOADERS = {
    "digits": load_digits,
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "fsdd": load_fsdd,
    "modelnet40": load_modelnet40,
    "msr_action3d": load_msr_action3d,
    "mnist_fsdd": load_mnist_fsdd,
}


def load(name, data_dir=None, **options):
    """Loads the data set called `name` (see `LOADERS` for the names).

    Args:
        name: str. One of `keras_perceiver.datasets.LOADERS`.
        data_dir: str or None. Folder holding a local copy.
        **options: the loader's other arguments, e.g.
            `audio_features="log_mel"` for "fsdd" and "mnist_fsdd".

    Returns:
        A `Dataset` whose training examples are in a fixed random order
        (seed 0), so that `validation_split` holds out every class.
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown data set. Expected one of {sorted(LOADERS)}. "
            f"Received: name={name!r}"
        )
    loader = LOADERS[name]
    accepted = set(inspect.signature(loader).parameters) - {"data_dir"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        expected = ", ".join(sorted(accepted)) or "none"
        raise ValueError(
            f"Unknown option for the {name} data set. Expected options: "
            f"{expected}. Received: {', '.join(unknown)}"
        )
    dataset = loader(data_dir=data_dir, **options)
    return dataset.with_shuffled_training_data()
