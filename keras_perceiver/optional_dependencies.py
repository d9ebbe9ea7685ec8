"""Imports of the packages that only the optional extras install.

The core install is Keras and NumPy. KerasTuner (`tuning`), matplotlib
(`plotting`), scikit-learn and Pillow (`data`) come with extras; a feature that
needs one imports it through `import_optional`, which names the extra to
install when the package is missing.
"""

import importlib

# Top-level module -> (the package pip installs, the extra that brings it).
EXTRAS = {
    "keras_tuner": ("keras-tuner", "tuning"),
    "matplotlib": ("matplotlib", "plotting"),
    "sklearn": ("scikit-learn", "data"),
    "PIL": ("pillow", "data"),
}


class MissingExtraError(ImportError):
    """An optional package is missing; the message names the extra."""


def import_optional(module_name, feature):
    """Imports `module_name` (a module of a package in `EXTRAS`).

    Args:
        module_name: str. The module, e.g. "matplotlib.pyplot".
        feature: str. What needs it, for the message, e.g. "Plotting".

    Returns:
        The module.

    Raises:
        MissingExtraError: the package is not installed; the message says
            which extra installs it.

    Example:

    >>> sklearn_datasets = import_optional("sklearn.datasets", "digits")
    """
    top_level = module_name.split(".")[0]
    package, extra = EXTRAS[top_level]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != top_level:
            raise  # a dependency of the package itself is missing
        raise MissingExtraError(
            f"{feature} needs {package}; install it with "
            f"`pip install keras-perceiver[{extra}]`. "
            f"Received: no module named {top_level!r}"
        ) from error
