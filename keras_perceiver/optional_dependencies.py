"""Imports on demand: the packages that only the optional extras install,
and the names a package face loads on their first use.

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


def names_loaded_on_use(package_name, public_names):
    """`__getattr__` and `__dir__` for a package face whose names load on
    their first use (PEP 562), so that importing one light module of the
    package (as the command line does before it parses its arguments)
    does not load Keras.

    Args:
        package_name: str. The package's `__name__`.
        public_names: dict. Each public name -> the module it comes from;
            a name that maps to `package_name` itself is a submodule.

    Returns:
        `(__getattr__, __dir__)`, to assign in the package's `__init__`.

    Example:

    >>> __getattr__, __dir__ = names_loaded_on_use(
    ...     __name__, {"RunCheckpoint": f"{__name__}.run_checkpoint"})
    """

    def __getattr__(name):
        if name not in public_names:
            raise AttributeError(
                f"module {package_name!r} has no attribute {name!r}"
            )
        module = public_names[name]
        if module == package_name:
            return importlib.import_module(f"{package_name}.{name}")
        return getattr(importlib.import_module(module), name)

    def __dir__():
        package = importlib.import_module(package_name)
        return sorted([*vars(package), *public_names])

    return __getattr__, __dir__
