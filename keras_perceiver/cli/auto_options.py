"""`auto` on the command line: `--backend auto`, `--precision auto` and
`--compile auto`, chosen by `keras_perceiver.performance` before Keras
loads.

The measuring processes build the model `train` would build from the
same options (`train_workload`); the table is cached, so only the first
run of a model on a machine measures. `--precision` and `--compile` also
take fixed values: `--mixed-precision` and `--jit-compile` are their
older spellings.
"""

import argparse
import functools
import math
import os

from keras_perceiver.cli.backend_choice import configured_backend
from keras_perceiver.cli.dataset_options import SOURCE_OPTIONS
from keras_perceiver.cli.dataset_options import load_dataset
from keras_perceiver.cli.main import CommandError
from keras_perceiver.cli.main import check_range
from keras_perceiver.cli.model_options import MODEL_OPTIONS
from keras_perceiver.performance.candidate import PRECISIONS
from keras_perceiver.performance.choosing import BUDGET_S
from keras_perceiver.performance.choosing import choose_for_workload
from keras_perceiver_command import AUTO

SWITCHES = ("on", "off")
# The options that decide the model and its data (so the table measured):
# those of the data, the model, the inputs, a checkpoint, and the
# validation split (steps per epoch).
WORKLOAD_OPTIONS = (
    "dataset", "data", "data_dir", "audio_features", "skip_bad_files",
    *[name for _, name, *_ in SOURCE_OPTIONS],
    *[name for _, name, *_ in MODEL_OPTIONS],
    "patch_size", "crop_size", "checkpoint", "validation_split",
)
# The options whose value may be "auto", each with the attribute it sets.
AUTO_FLAGS = {"--backend": "backend", "--precision": "precision",
              "--compile": "compile"}


def add_auto_budget_argument(group):
    """Adds `--auto-budget SECONDS` to `group`."""
    group.add_argument(
        "--auto-budget", type=float, default=BUDGET_S, metavar="SECONDS",
        help="auto: seconds of measuring at most, every candidate "
             "together, when the cache holds no table for this model yet",
    )


def check_auto_budget(args):
    """Raises CommandError unless `--auto-budget` is a positive number."""
    check_range("--auto-budget", args.auto_budget, 0.0, math.inf,
                "a positive number of seconds", low_included=False)


def workload_of(args):
    """The workload (`keras_perceiver.performance`) of the model that the
    parsed command line trains: its options, paths made absolute."""
    arguments = {name: getattr(args, name) for name in WORKLOAD_OPTIONS}
    for name in ("data", "data_dir"):
        if arguments[name] and not arguments[name].startswith("tfds:"):
            arguments[name] = os.path.abspath(arguments[name])
    return {"build": f"{__name__}:train_workload", "arguments": arguments,
            "batch_size": args.batch_size}


def train_workload(arguments, batch_size):
    """In a measuring process: the model `train` builds from `arguments`
    (`workload_of`'s), and the first batch of its data.

    Args:
        arguments: dict. The options of `WORKLOAD_OPTIONS`.
        batch_size: int.

    Returns:
        A `keras_perceiver.performance.Workload`.
    """
    from keras_perceiver.cli.train import build_model
    from keras_perceiver.performance import Workload
    from keras_perceiver.training import steps_per_epoch

    args = argparse.Namespace(**arguments)
    dataset = load_dataset(args)
    inputs, labels = dataset.first_examples(batch_size)
    return Workload(
        build_model=functools.partial(build_model, args, dataset),
        inputs=inputs, labels=labels,
        steps_per_epoch=steps_per_epoch(dataset.num_train_examples,
                                        batch_size, args.validation_split),
    )


def resolve(args, argv):
    """Sets `args.backend`, `args.mixed_precision` and `args.jit_compile`
    from the options, measuring (or reading the cache) where one is
    "auto"; prints what it chose and why.

    Args:
        args: the parsed `train` command line.
        argv: list of str. The command's arguments.

    Returns:
        `argv` with "auto" replaced by the values chosen (for a command
        started again under the chosen backend).

    Raises:
        CommandError: conflicting spellings, a bad budget, `--devices`.
    """
    fixed = fixed_values(args)
    if AUTO not in fixed.values():
        return argv
    check_auto_budget(args)
    if args.devices is not None:
        raise CommandError(
            "auto measures training on one device; give --backend, "
            "--precision and --compile values with --devices"
        )
    choice = choose_for_workload(workload_of(args), epochs=args.epochs,
                                 budget_s=args.auto_budget, **fixed)
    print(f"auto: {choice.reason()}; `keras-perceiver benchmark` shows the "
          "table", flush=True)
    args.backend = choice.backend
    args.precision = choice.precision
    args.compile = SWITCHES[0] if choice.jit_compile else SWITCHES[1]
    args.mixed_precision = choice.precision == PRECISIONS[1]
    args.jit_compile = choice.jit_compile
    return resolved_argv(argv, args)


def fixed_values(args):
    """The backend, precision and compilation the options ask for, each a
    value or "auto"; sets `args.mixed_precision` and `args.jit_compile`
    from the new spellings. Raises CommandError where they conflict."""
    precision = _one_spelling("--precision", args.precision,
                              "--mixed-precision", args.mixed_precision,
                              PRECISIONS[1])
    switch = _one_spelling("--compile", args.compile, "--jit-compile",
                           args.jit_compile, SWITCHES[0])
    args.mixed_precision = precision == PRECISIONS[1]
    args.jit_compile = switch == SWITCHES[0]
    return {"backend": args.backend or configured_backend(),
            "precision": precision or PRECISIONS[0],
            "jit_compile": AUTO if switch == AUTO else args.jit_compile}


def _one_spelling(flag, value, old_flag, old_given, old_value):
    """`flag`'s value, or `old_value` where only the old flag is given."""
    if old_given and value not in (None, old_value):
        raise CommandError(
            f"{old_flag} means {flag} {old_value}; it conflicts with "
            f"{flag} {value}: give one of them"
        )
    return old_value if old_given else value


def resolved_argv(argv, args):
    """`argv` with each "auto" of `AUTO_FLAGS` replaced by `args`' value."""
    resolved = list(argv)
    for index, argument in enumerate(argv):
        flag, equals, value = argument.partition("=")
        if equals and flag in AUTO_FLAGS and value == AUTO:
            resolved[index] = f"{flag}={getattr(args, AUTO_FLAGS[flag])}"
        elif argument == AUTO and index and argv[index - 1] in AUTO_FLAGS:
            resolved[index] = getattr(args, AUTO_FLAGS[argv[index - 1]])
    return resolved
