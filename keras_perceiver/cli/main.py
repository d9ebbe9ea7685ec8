"""Entry point of the `keras-perceiver` command.

`--backend` must take effect, but Keras fixes its backend when it is first
imported, and importing this package imports Keras. The `keras-perceiver`
script (`keras_perceiver_command`, also `python -m keras_perceiver_command`)
sets `KERAS_BACKEND` before that import, and an unknown or uninstalled
backend is a one-line error there. Run otherwise (`python -m
keras_perceiver.cli`), Keras has loaded `KERAS_BACKEND` (and raised its own
error for a bad one) before this module runs; when `--backend` names another
backend, the command starts itself again with `KERAS_BACKEND` set (one
`exec`, before any work).
"""

import argparse
import importlib
import math
import os
import re
import sys
import warnings

from keras_perceiver.optional_dependencies import MissingExtraError
from keras_perceiver.optional_dependencies import import_optional
from keras_perceiver_command import BACKEND_MODULES
from keras_perceiver_command import backend_problem
from keras_perceiver_command import split_backend_argument

# This package's folder: warnings raised from it are the command's own.
PACKAGE_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_SHOW_WARNING = warnings.showwarning
SUBCOMMAND_MODULES = ("train", "evaluate", "predict", "tune", "export")
# Optional packages a command needs whatever its options (checked before
# any work): (module, what needs it).
COMMAND_EXTRAS = {
    "train": [("matplotlib", "train's plots")],
    "tune": [("keras_tuner", "tune"), ("matplotlib", "tune's results plot")],
}


class CommandError(Exception):
    """A user error: printed as one line, exit status 2."""


def check_range(flag, value, low, high, expected, low_included=True):
    """Raises CommandError unless `value` is finite, >= low (> low), < high.

    NaN and infinities fail every test, so they are refused too.
    """
    above = value >= low if low_included else value > low
    if not (math.isfinite(value) and above and value < high):
        raise CommandError(f"{flag} must be {expected}, got {value}")


def check_positive_ints(args, *names):
    """Raises CommandError unless each option `names` (attribute names of
    `args`, e.g. "batch_size") is None or a positive integer."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise CommandError(
                f"--{name.replace('_', '-')} must be a positive integer, "
                f"got {value}"
            )


def first_line(error):
    """The first line of an exception's message (its repr if it has none).

    Keras wraps errors raised inside a layer's `call` in "Exception
    encountered when calling X.call()." and a bold (ANSI) copy of the
    message: that line is skipped and the codes removed.
    """
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in message.splitlines()
             if line.strip()
             and not line.startswith("Exception encountered when calling")]
    return lines[0] if lines else repr(error)


def show_warning_on_one_line(message, category, filename, lineno,
                             file=None, line=None):
    """`warnings.showwarning` for the command.

    The package's own warnings (a lock taken over, a damaged checkpoint
    skipped) are one line, `keras-perceiver: warning: ...`, like its
    errors; warnings from other libraries keep Python's format.
    """
    if not os.path.abspath(filename).startswith(PACKAGE_FOLDER + os.sep):
        PYTHON_SHOW_WARNING(message, category, filename, lineno, file, line)
        return
    print(f"keras-perceiver: warning: {message}", file=file or sys.stderr)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-perceiver",
        description="Train, evaluate, tune and export Perceiver models.",
    )
    parser.add_argument(
        "--backend",
        choices=sorted(BACKEND_MODULES),
        help="Keras backend to run on (default: $KERAS_BACKEND or keras's).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"keras_perceiver.cli.{name}")
        module.add_parser(subparsers)
    return parser


def quiet_tensorflow_off_its_backend():
    """No TensorFlow start-up log lines unless TensorFlow is the backend.

    Off TensorFlow, Keras still imports it where it is installed (its
    `set_random_seed` seeds TensorFlow too), and so do tf.data pipelines;
    its C++ start-up lines (oneDNN, CUDA) would follow. Unless the user set
    them, only TensorFlow's errors are shown, and its oneDNN kernels (whose
    notice is printed regardless of the log level; off TensorFlow they
    would only run tf.data's few ops) are left off.
    """
    import keras

    if keras.config.backend() != "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def restart_under_backend(backend, argv):
    problem = backend_problem(backend, "--backend")
    if problem:
        raise CommandError(problem)
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "keras_perceiver.cli", *argv]
    os.execvpe(sys.executable, command, env)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.showwarning = show_warning_on_one_line
        return run_command(argv)


def run_command(argv):
    """Runs the command in `argv`; returns its exit status."""
    try:
        backend = split_backend_argument(argv)
        if backend and backend != os.environ.get("KERAS_BACKEND"):
            restart_under_backend(backend, argv)
        quiet_tensorflow_off_its_backend()
        args = build_parser().parse_args(argv)
        for module, feature in COMMAND_EXTRAS.get(args.command, ()):
            import_optional(module, feature)
        return args.run(args) or 0
    except (CommandError, MissingExtraError) as error:
        print(f"keras-perceiver: error: {error}", file=sys.stderr)
        return 2
