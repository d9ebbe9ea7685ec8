"""Entry point of the `keras-perceiver` command.

`--backend` must take effect, but Keras fixes its backend when it is first
imported, and importing this package imports Keras. So when `--backend`
names a backend other than the one in `KERAS_BACKEND`, the command starts
itself again with `KERAS_BACKEND` set (one `exec`, before any work).
"""

import argparse
import importlib
import importlib.util
import math
import os
import re
import sys

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
SUBCOMMAND_MODULES = ("train", "evaluate", "predict", "tune", "export")


class CommandError(Exception):
    """A user error: printed as one line, exit status 2."""


def check_range(flag, value, low, high, expected, low_included=True):
    """Raises CommandError unless `value` is finite, >= low (> low), < high.

    NaN and infinities fail every test, so they are refused too.
    """
    above = value >= low if low_included else value > low
    if not (math.isfinite(value) and above and value < high):
        raise CommandError(f"{flag} must be {expected}, got {value}")


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


def split_backend_argument(argv):
    """Finds `--backend NAME` / `--backend=NAME` anywhere in `argv`."""
    for index, argument in enumerate(argv):
        if argument == "--backend" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--backend="):
            return argument.split("=", 1)[1]
    return None


def restart_under_backend(backend, argv):
    if backend not in BACKEND_MODULES:
        raise CommandError(
            f"unknown backend {backend!r}; choose from "
            f"{', '.join(sorted(BACKEND_MODULES))}"
        )
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        raise CommandError(
            f"backend {backend!r} is not installed; install it with "
            f"`pip install keras-perceiver[{backend}]`"
        )
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [sys.executable, "-m", "keras_perceiver.cli", *argv]
    os.execvpe(sys.executable, command, env)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        backend = split_backend_argument(argv)
        if backend and backend != os.environ.get("KERAS_BACKEND"):
            restart_under_backend(backend, argv)
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except CommandError as error:
        print(f"keras-perceiver: error: {error}", file=sys.stderr)
        return 2
