"""The options of `keras-perceiver tune`: the search space (a value, a
list or a range per hyperparameter), the fixed model options and the
search's own."""

import argparse
import math

from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    check_range,
)
from keras_perceiver.cli.model_options import MODEL_OPTIONS
from keras_perceiver.cli.output_options import add_output_dir_arguments
from keras_perceiver.training.defaults import MODEL_HYPERPARAMETERS

# What the search writes in its output directory: its files, and KerasTuner's
# folder (its project).
RESULT_FILES = ("results.csv", "results.md", "results.png",
                "best_model.keras", "best.json")
SEARCH = "search"
# (flag, hyperparameter, type, help) of the optimizer.
OPTIMIZER_OPTIONS = (
    ("--learning-rate", "learning_rate", float, "AdamW learning rate"),
    ("--weight-decay", "weight_decay", float, "AdamW weight decay"),
)
# What the values of OPTIMIZER_OPTIONS must be (NaN and inf are refused).
OPTIMIZER_RANGES = {"learning_rate": "a positive number",
                    "weight_decay": "a number >= 0"}
SAMPLINGS = ("linear", "log", "reverse_log")
TUNERS = {
    "random": "RandomSearch",
    "bayesian": "BayesianOptimization",
    "hyperband": "Hyperband",
}
SEARCH_SPACE_HELP = (
    "Each takes one value (fixed), a comma-separated list (choices, e.g. "
    "32,64,128) or a range MIN:MAX[:STEP][:SAMPLING] with SAMPLING one of "
    f"{', '.join(SAMPLINGS)} (e.g. 1e-4:1e-2:log). Left out, a setting keeps "
    "the default of keras_perceiver.tuning.PerceiverHyperModel (N and L "
    "searched, the rest fixed); the search prints its space when it starts."
)


def add_search_space_arguments(parser):
    group = parser.add_argument_group("search space", SEARCH_SPACE_HELP)
    searchable = [
        (flag, name, kind, help_text)
        for flag, name, kind, _, help_text in MODEL_OPTIONS
        if name in MODEL_HYPERPARAMETERS
    ]
    for flag, name, kind, help_text in searchable + list(OPTIMIZER_OPTIONS):
        group.add_argument(
            flag, dest=name, type=search_space_value(kind), default=None,
            metavar="SPEC", help=help_text,
        )


def add_fixed_model_arguments(parser):
    group = parser.add_argument_group("fixed model options")
    for flag, name, kind, default, help_text in MODEL_OPTIONS:
        if name not in MODEL_HYPERPARAMETERS:
            group.add_argument(
                flag, dest=name, type=kind, default=default,
                help=f"{help_text} (default: {default})",
            )


def add_search_arguments(parser):
    group = parser.add_argument_group("search options")
    group.add_argument(
        "--tuner", choices=sorted(TUNERS), default="random",
        help="KerasTuner algorithm (default: random)",
    )
    group.add_argument(
        "--max-trials", type=int, default=10,
        help="trials to run, for random and bayesian (default: 10)",
    )
    group.add_argument(
        "--epochs", type=int, default=5,
        help="epochs per trial; hyperband's maximum (default: 5)",
    )
    group.add_argument(
        "--hyperband-factor", type=int, default=3,
        help="hyperband's reduction factor (default: 3)",
    )
    group.add_argument("--batch-size", type=int, default=64,
                       help="examples per training step")
    group.add_argument(
        "--validation-split", type=float, default=0.1,
        help="share of the training data held out to select on "
        "(default: 0.1)",
    )
    group.add_argument(
        "--max-train-samples", type=int, default=None,
        help="search on a random subset of the training data this large "
        "(validation split included; default: all of it)",
    )
    group.add_argument(
        "--objective", choices=("val_accuracy", "val_loss"),
        default="val_accuracy", help="metric to select on "
        "(default: val_accuracy)",
    )
    group.add_argument(
        "--time-budget", type=float, default=None, metavar="SECONDS",
        help="stop the search after this many seconds (the trial then "
        "running is cut short and runs again on resumption)",
    )
    group.add_argument(
        "--max-params", type=int, default=None,
        help="fail trials whose model has more parameters, without "
        "training them",
    )
    group.add_argument("--seed", type=int, default=0,
                       help="random seed (weights, shuffling, the sample)")
    add_output_dir_arguments(
        group, "where results go (default: runs/tune-<dataset>)",
        RESULT_FILES, SEARCH,
    )
    group.add_argument(
        "--overwrite", action="store_true",
        help="start a new search instead of resuming the one in the "
        "output directory",
    )
    group.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1,
        help="Keras progress output: 0 none, 1 bars, 2 a line per epoch "
        "(default: 1)",
    )


def search_space_value(kind):
    """An argparse type: a value, a comma list of values, or a range.

    Args:
        kind: `int` or `float`, the type of the values.

    Returns:
        A function from the option's text to what `PerceiverHyperModel`
        takes: a value, a list of values or a range dict.
    """

    def parse(text):
        try:
            if ":" in text:
                return _parse_range(text, kind)
            values = [kind(value) for value in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a {kind.__name__}, a comma-separated list of "
                f"them or MIN:MAX[:STEP][:SAMPLING], got {text!r}"
            ) from None
        return values[0] if len(values) == 1 else values

    return parse


def _parse_range(text, kind):
    parts = text.split(":")
    if not 2 <= len(parts) <= 4:
        raise ValueError(text)
    spec = {"min_value": kind(parts[0]), "max_value": kind(parts[1])}
    for part in parts[2:]:
        if part in SAMPLINGS:
            spec["sampling"] = part
        else:
            spec["step"] = kind(part)
    return spec


def check_search_arguments(args):
    check_positive_ints(args, "max_trials", "epochs", "batch_size",
                        "max_params", "max_train_samples")
    if not 0.0 < args.validation_split < 1.0:
        raise CommandError(
            f"--validation-split must be in (0, 1), got "
            f"{args.validation_split}"
        )
    if args.hyperband_factor < 2:
        raise CommandError(
            f"--hyperband-factor must be at least 2, got "
            f"{args.hyperband_factor}"
        )
    if args.time_budget is not None and not args.time_budget >= 0:
        raise CommandError(
            f"--time-budget must be >= 0 seconds, got {args.time_budget}"
        )
    for flag, name, _, _ in OPTIMIZER_OPTIONS:
        spec = getattr(args, name)
        for value in [] if spec is None else search_space_numbers(spec):
            check_range(flag, value, 0.0, math.inf,
                        OPTIMIZER_RANGES[name], name == "weight_decay")


def search_space_numbers(spec):
    """The numbers in a search-space value: itself, its choices, or its
    range's bounds and step."""
    if isinstance(spec, dict):
        return [value for key, value in spec.items() if key != "sampling"]
    return spec if isinstance(spec, list) else [spec]
