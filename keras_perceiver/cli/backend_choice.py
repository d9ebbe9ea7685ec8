"""The Keras backend of the command, chosen before Keras loads.

`--backend` must take effect before Keras is imported: `use_backend` sets
`KERAS_BACKEND` then, or starts the command again under that backend (one
`exec`, before any work) where Keras has already loaded another.
"""

import json
import os
import sys

from keras_perceiver.python_command import isolated_module_command
from keras_perceiver_command import backend_problem


def configured_backend():
    """The backend Keras runs on, or will load, read without importing it.

    As Keras decides: `KERAS_BACKEND` (set from `--backend`), else the
    "backend" of `keras.json` in `$KERAS_HOME` (default `~/.keras`), else
    TensorFlow.

    Example:

    >>> os.environ["KERAS_BACKEND"] = "jax"; configured_backend()
    'jax'
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME",
                          os.path.join(os.path.expanduser("~"), ".keras"))
    try:
        with open(os.path.join(home, "keras.json")) as file:
            backend = json.load(file).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return backend if isinstance(backend, str) else "tensorflow"


def quiet_tensorflow_off_its_backend():
    """No TensorFlow start-up log lines unless TensorFlow is the backend.

    Off TensorFlow, Keras still imports it where it is installed (its
    `set_random_seed` and its serialization look for it), and so do tf.data
    pipelines; its C++ start-up lines (oneDNN, CUDA) would follow. Unless
    the user set them, only TensorFlow's errors are shown, and its oneDNN
    kernels (whose notice is printed regardless of the log level; off
    TensorFlow they would only run tf.data's few ops) are left off.
    """
    if configured_backend() != "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def use_backend(backend, argv):
    """Makes `backend` the Keras backend of this command.

    Before Keras is imported, setting `KERAS_BACKEND` is enough; after, the
    command starts itself again (`restart_under_backend`). Raises
    `ValueError` for a backend that is not installed.
    """
    if backend == os.environ.get("KERAS_BACKEND"):
        return
    problem = backend_problem(backend, "--backend")
    if problem:
        raise ValueError(problem)
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = backend
        return
    restart_under_backend(backend, argv)


def restart_under_backend(backend, argv):
    """Replaces this process with the command run under `backend`."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = isolated_module_command("keras_perceiver_command", *argv)
    os.execve(sys.executable, command, env)
