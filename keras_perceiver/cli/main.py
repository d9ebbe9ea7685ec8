"""Entry point of the `keras-perceiver` command.

The parser is built without Keras: `--help`, `--version` and argument
errors answer at once, and Keras (with its backend) is imported only by
the command that runs. `--backend` must take effect before that import:
the `keras-perceiver` script (`keras_perceiver_command`) checks it and sets
`KERAS_BACKEND` first, and so does `main` when Keras is not loaded yet.
Called where Keras has already loaded another backend, the command starts
itself again with `KERAS_BACKEND` set (one `exec`, before any work), in an
isolated Python that does not import modules from the working directory.
"""

import argparse
import contextlib
import importlib
import importlib.metadata
import math
import os
import re
import sys
import warnings

from keras_perceiver.cli.backend_choice import quiet_tensorflow_off_its_backend
from keras_perceiver.cli.backend_choice import use_backend
from keras_perceiver.optional_dependencies import MissingExtraError
from keras_perceiver.optional_dependencies import import_optional
from keras_perceiver_command import AUTO
from keras_perceiver_command import BACKEND_MODULES

# This package's folder: warnings raised from it are the command's own.
PACKAGE_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_SHOW_WARNING = warnings.showwarning
SUBCOMMAND_MODULES = ("train", "evaluate", "predict", "tune", "export",
                      "benchmark")
# Optional packages a command needs whatever its options (checked before
# any work): (module, what needs it).
COMMAND_EXTRAS = {
    "train": [("matplotlib", "train's plots")],
    "tune": [("keras_tuner", "tune"), ("matplotlib", "tune's results plot")],
}


# The exit status of a command stopped by Ctrl-C: 128 + SIGINT, as shells
# report it.
INTERRUPTED = 130


class CommandError(Exception):
    """A user error: printed as one line, exit status 2."""


@contextlib.contextmanager
def library_errors():
    """Turns the library's `ValueError`s (a user's mistake) into a
    `CommandError`: its first line."""
    try:
        yield
    except ValueError as error:
        raise CommandError(first_line(error)) from None


def interrupted(message="interrupted"):
    """Prints the one line of a command stopped by Ctrl-C, `message`;
    returns the exit status."""
    print(f"keras-perceiver: {message}", file=sys.stderr)
    return INTERRUPTED


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that ends each option's text with its default.

    Left out where the text already says its default, and where there is
    none to show (None, a flag's False).
    """

    def _get_help_string(self, action):
        text = action.help
        nothing = action.default is None or action.default is False
        if (nothing or not action.option_strings or "default" in text
                or action.default == argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


class CommandParser(argparse.ArgumentParser):
    """The parser of the command and its subcommands.

    Its help shows the defaults, and an argument error is a CommandError:
    one line, exit status 2, also when `main` runs in a caller's process.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(**kwargs)

    def error(self, message):
        subcommand = self.prog.removeprefix("keras-perceiver").strip()
        where = f"{subcommand}: " if subcommand else ""
        raise CommandError(f"{where}{message} (see `{self.prog} --help`)")


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


def package_version():
    """The installed package's version (the source's, run from a copy)."""
    try:
        return importlib.metadata.version("keras-perceiver")
    except importlib.metadata.PackageNotFoundError:
        from keras_perceiver import __version__

        return __version__


def build_parser():
    """The command's parser; it imports no Keras and no backend."""
    parser = CommandParser(
        prog="keras-perceiver",
        description="Train, evaluate, tune and export Perceiver models, "
                    "and measure which backend trains them fastest.",
    )
    parser.add_argument(
        "--version", action="version",
        version=f"%(prog)s {package_version()}",
    )
    parser.add_argument(
        "--backend",
        choices=[*sorted(BACKEND_MODULES), AUTO],
        help="Keras backend to run on; auto (train only): the fastest "
             "measured here, see `keras-perceiver benchmark` (default: "
             "$KERAS_BACKEND or keras's).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       required=True)
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"keras_perceiver.cli.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.showwarning = show_warning_on_one_line
        return run_command(argv)


def choose_automatic_options(args, argv):
    """Resolves `auto` values (`--backend auto`...) with the subcommand's
    `automatic` (train's measures); returns `argv` with them resolved."""
    automatic = getattr(args, "automatic", None)
    if automatic is not None:
        return automatic(args, argv)
    if args.backend == AUTO:
        raise CommandError(
            f"--backend auto measures training steps: it applies to train "
            f"and not to {args.command}; name a backend"
        )
    return argv


def run_command(argv):
    """Runs the command in `argv`; returns its exit status."""
    try:
        args = build_parser().parse_args(argv)
        with library_errors():
            argv = choose_automatic_options(args, argv)
            if args.backend:
                use_backend(args.backend, argv)
        quiet_tensorflow_off_its_backend()
        for module, feature in COMMAND_EXTRAS.get(args.command, ()):
            import_optional(module, feature)
        return args.run(args) or 0
    except (CommandError, MissingExtraError) as error:
        print(f"keras-perceiver: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # train and tune say how to resume
        return interrupted()
