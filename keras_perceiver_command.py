"""The `keras-perceiver` console script: the backend first, then Keras.

Keras fixes its backend when it is first imported. This script checks the
backend that `--backend` (or else `KERAS_BACKEND`) names and sets
`KERAS_BACKEND` before anything imports Keras: an unknown or uninstalled
backend is a one-line error, not an import traceback. `--backend auto` is
left to the command, which measures before Keras loads. (Otherwise, with
`KERAS_BACKEND` unset, Keras would load its default, TensorFlow, and print
TensorFlow's start-up log lines.) The command itself
(`keras_perceiver.cli.main`) parses its arguments without Keras.
"""

import importlib.util
import os
import sys

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
# `--backend auto`: the backend `train` measures to be the fastest here.
AUTO = "auto"


def split_backend_argument(argv):
    """Finds `--backend NAME` / `--backend=NAME` anywhere in `argv`."""
    for index, argument in enumerate(argv):
        if argument == "--backend" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--backend="):
            return argument.split("=", 1)[1]
    return None


def backend_problem(backend, source):
    """What is wrong with the backend that `source` names, or None.

    Args:
        backend: str. The backend's name.
        source: str. Where it comes from, for the message: "--backend" or
            "KERAS_BACKEND".

    Example:

    >>> backend_problem("tensorflwo", "KERAS_BACKEND")
    "KERAS_BACKEND must be one of jax, tensorflow, torch; got 'tensorflwo'"
    """
    if backend not in BACKEND_MODULES:
        return (f"{source} must be one of "
                f"{', '.join(sorted(BACKEND_MODULES))}; got {backend!r}")
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        return (f"{source} names the {backend} backend, which is not "
                f"installed; install it with `pip install "
                f"keras-perceiver[{backend}]`")
    return None


def main():
    """Runs `keras-perceiver` with `sys.argv`; returns the exit status.

    The backend, from `--backend` or else `KERAS_BACKEND`, is checked
    before Keras loads it: an unknown or uninstalled one is a one-line
    error (exit status 2), not an import traceback.
    """
    backend = split_backend_argument(sys.argv[1:])
    source = "--backend"
    if backend is None:
        backend, source = os.environ.get("KERAS_BACKEND"), "KERAS_BACKEND"
    if backend == AUTO and source == "--backend":
        backend = None  # chosen by measuring, once the arguments are parsed
    problem = backend_problem(backend, source) if backend else None
    if problem:
        print(f"keras-perceiver: error: {problem}", file=sys.stderr)
        return 2
    if backend:
        os.environ["KERAS_BACKEND"] = backend
    # Run as `python -m keras_perceiver_command` this module is `__main__`:
    # under its own name too, the package sees that the command imports it
    # and defers its imports (keras_perceiver/__init__.py).
    sys.modules.setdefault("keras_perceiver_command", sys.modules[__name__])
    from keras_perceiver.cli.main import main as run_command

    return run_command()


if __name__ == "__main__":  # python -m keras_perceiver_command
    sys.exit(main())
