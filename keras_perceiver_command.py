"""The `keras-perceiver` console script: the backend first, then Keras.

Keras fixes its backend when it is first imported, and importing
`keras_perceiver` imports Keras. This module lies outside the package so
that the script can set `KERAS_BACKEND` from `--backend` before that import.
(Otherwise, with `KERAS_BACKEND` unset, Keras would load its default,
TensorFlow, and print TensorFlow's start-up log lines, only for the command
to start itself again under the backend asked for.)
"""

import importlib.util
import os
import sys

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def split_backend_argument(argv):
    """Finds `--backend NAME` / `--backend=NAME` anywhere in `argv`."""
    for index, argument in enumerate(argv):
        if argument == "--backend" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--backend="):
            return argument.split("=", 1)[1]
    return None


def main():
    """Runs `keras-perceiver` with `sys.argv`; returns the exit status."""
    backend = split_backend_argument(sys.argv[1:])
    module = BACKEND_MODULES.get(backend)
    # An unknown or missing backend is left to the command's one-line error.
    if module and importlib.util.find_spec(module) is not None:
        os.environ["KERAS_BACKEND"] = backend
    from keras_perceiver.cli.main import main as run_command

    return run_command()
