"""`keras-perceiver tune`: search latent sizes and depths with KerasTuner."""

import argparse
import contextlib
import json
import math
import pathlib
import sys

from keras_perceiver.training.atomic_files import atomic_path, write_text_atomically
from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    data_name,
    load_dataset,
)
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    check_range,
    first_line,
    interrupted,
)
from keras_perceiver.cli.model_options import MODEL_OPTIONS
from keras_perceiver.cli.output_options import (
    add_overwrite_argument,
    hold_given_output_dir,
)

# What the search writes in its output directory: its files, and KerasTuner's
# folder (its project).
RESULT_FILES = ("results.csv", "results.md", "results.png",
                "best_model.keras", "best.json")
SEARCH = "search"
# Perceiver arguments that `PerceiverHyperModel` can search over; the other
# model options stay fixed.
SEARCHABLE_MODEL_ARGUMENTS = (
    "num_latents",
    "num_self_attends_per_block",
    "latent_dim",
    "num_blocks",
    "num_cross_heads",
    "num_self_heads",
)
OPTIMIZER_OPTIONS = (
    ("--learning-rate", "learning_rate", float, "AdamW learning rate"),
    ("--weight-decay", "weight_decay", float, "AdamW weight decay"),
)
# What the values of OPTIMIZER_OPTIONS must be (NaN and inf are refused).
OPTIMIZER_RANGES = {"learning_rate": "a positive number",
                    "weight_decay": "a number >= 0"}
SAMPLINGS = ("linear", "log", "reverse_log")
# Fewer validation examples than this make the best trial a lottery.
MIN_VALIDATION_EXAMPLES = 10
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


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "tune",
        help="search the number of latents N and the depth L with KerasTuner",
        description="Search Perceiver hyperparameters with KerasTuner, "
        "selecting on a validation split of the training data. Writes "
        "results.csv, results.md and results.png (the metric against N and "
        "L), best_model.keras and best.json to the output directory; the "
        "trials are kept in its search/ folder. Started again with the same "
        "output directory, the search resumes: finished trials are kept, an "
        "interrupted one runs again.",
    )
    add_dataset_arguments(parser)
    add_search_space_arguments(parser)
    add_fixed_model_arguments(parser)
    add_search_arguments(parser)
    parser.set_defaults(run=run)


def add_search_space_arguments(parser):
    group = parser.add_argument_group("search space", SEARCH_SPACE_HELP)
    searchable = [
        (flag, name, kind, help_text)
        for flag, name, kind, _, help_text in MODEL_OPTIONS
        if name in SEARCHABLE_MODEL_ARGUMENTS
    ]
    for flag, name, kind, help_text in searchable + list(OPTIMIZER_OPTIONS):
        group.add_argument(
            flag, dest=name, type=search_space_value(kind), default=None,
            metavar="SPEC", help=help_text,
        )


def add_fixed_model_arguments(parser):
    group = parser.add_argument_group("fixed model options")
    for flag, name, kind, default, help_text in MODEL_OPTIONS:
        if name not in SEARCHABLE_MODEL_ARGUMENTS:
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
    group.add_argument(
        "--output-dir", default=None,
        help="where results go (default: runs/tune-<dataset>); a folder "
             "of other files is refused",
    )
    add_overwrite_argument(group, RESULT_FILES, SEARCH)
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


def run(args):
    """Holds the output directory for the search (one search at a time)."""
    check_search_arguments(args)
    output_dir = pathlib.Path(
        args.output_dir or f"runs/tune-{data_name(args)}"
    )
    # A search of a release before the marker file: KerasTuner's state.
    earlier = (output_dir / SEARCH / "oracle.json").is_file()
    run_directory = hold_given_output_dir(output_dir, args, earlier, SEARCH)
    try:
        search_in(output_dir, args)
    except KeyboardInterrupt:
        return interrupted("interrupted; run the same command to resume the "
                           "search (finished trials are kept)")
    finally:
        run_directory.release()


def search_in(output_dir, args):
    """Searches (or resumes) and writes the results to `output_dir`."""
    import keras

    from keras_perceiver import tuning

    # The tuner searches on in-memory arrays (--data sources are read whole).
    dataset = load_dataset(args, in_memory=True)
    keras.utils.set_random_seed(args.seed)
    with tuner_state_written_atomically():
        try:
            tuner = make_tuner(args, make_hypermodel(args, dataset),
                               output_dir)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"A state file of the search in {output_dir / 'search'} is "
                f"damaged ({error}); --overwrite starts the search afresh"
            ) from None
        except ValueError as error:  # a bad model option, found building
            raise CommandError(first_line(error)) from None
        resume_interrupted_trials(tuner.oracle)
        tuner.search_space_summary()
        search(tuner, dataset, args)
    paths = tuning.write_results(tuner, output_dir)
    print(pathlib.Path(paths["markdown"]).read_text())
    save_best(tuner, dataset, args, output_dir)
    print(f"Wrote {', '.join(paths.values())}")


@contextlib.contextmanager
def tuner_state_written_atomically():
    """Makes KerasTuner write its state files atomically within the block.

    KerasTuner writes oracle.json and each trial.json in place (its
    `utils.save_json`, which all its state goes through); a kill during a
    write left an empty file that every resume then failed to read. Here
    they go through `atomic_path`: a kill leaves the old file or the new.
    """
    from keras_tuner.src import utils

    save_json = utils.save_json

    def save_json_atomically(path, obj):
        with atomic_path(path) as temporary:
            return save_json(str(temporary), obj)

    utils.save_json = save_json_atomically
    try:
        yield
    finally:
        utils.save_json = save_json


def resume_interrupted_trials(oracle):
    """Makes the reloaded search run each interrupted trial to its end.

    KerasTuner writes a trial's trial.json and then oracle.json, the
    oracle's list of running trials. A kill between the two leaves a trial
    that is running in its file but unknown to the oracle, which counted it
    against --max-trials and never ran it again; or a finished trial that
    the oracle still runs again. Only one search holds the directory, so a
    trial found running here was interrupted: it is run again (first, its
    values marked as tried), and a finished one is not.
    """
    from keras_tuner.src.engine.trial import TrialStatus

    for trial in oracle.trials.values():
        if trial.trial_id in oracle._retry_queue:
            if trial.status == TrialStatus.COMPLETED:
                oracle._retry_queue.remove(trial.trial_id)
                if trial.trial_id not in oracle.end_order:
                    oracle.end_order.append(trial.trial_id)
        elif trial.status == TrialStatus.RUNNING:
            oracle._record_values(trial)
            oracle._retry_queue.append(trial.trial_id)


def search(tuner, dataset, args):
    """Runs (or resumes) the search until it ends or its time is spent."""
    import keras

    from keras_perceiver import tuning

    (x_train, y_train), validation_data = search_data(dataset, args)
    print(
        f"Searching on {dataset.name}: {len(y_train)} training and "
        f"{len(validation_data[1])} validation examples, "
        f"{keras.config.backend()} backend; results in {tuner.directory}"
    )
    callbacks = []
    if args.time_budget is not None:
        callbacks.append(tuning.TimeBudget(args.time_budget))
    try:
        tuner.search(
            x_train, y_train, validation_data=validation_data,
            epochs=args.epochs, batch_size=args.batch_size,
            callbacks=callbacks, verbose=args.verbose,
        )
    except tuning.TimeBudgetExceeded as error:
        print(error)


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


def make_hypermodel(args, dataset):
    """The `PerceiverHyperModel` that the command line describes."""
    import keras

    from keras_perceiver.models.perceiver_for_dataset import input_adapter_for
    from keras_perceiver.tuning import PerceiverHyperModel

    names = SEARCHABLE_MODEL_ARGUMENTS + tuple(
        name for _, name, *_ in OPTIMIZER_OPTIONS
    )
    search_space = {
        name: getattr(args, name)
        for name in names
        if getattr(args, name) is not None
    }
    fixed = {
        name: getattr(args, name)
        for _, name, *_ in MODEL_OPTIONS
        if name not in SEARCHABLE_MODEL_ARGUMENTS
    }
    fixed["input_adapter"] = input_adapter_for(dataset, args.num_bands)
    example_shape = keras.tree.map_structure(
        lambda array: tuple(array.shape[1:]), dataset.x_train
    )
    return PerceiverHyperModel(
        example_shape, dataset.num_classes,
        class_names=[str(name) for name in dataset.class_names],
        input_preprocessing=dataset.preprocessing, **search_space, **fixed
    )


def make_tuner(args, hypermodel, output_dir):
    """The KerasTuner tuner, resuming the search in `output_dir/search`."""
    import keras_tuner

    options = dict(
        hypermodel=hypermodel,
        objective=args.objective,
        seed=args.seed,
        max_model_size=args.max_params,
        # Trials over --max-params fail fast; they must not end the search.
        max_consecutive_failed_trials=sys.maxsize,
        directory=str(output_dir),
        project_name=SEARCH,
        overwrite=args.overwrite,
    )
    tuner_class = getattr(keras_tuner, TUNERS[args.tuner])
    if args.tuner == "hyperband":
        return tuner_class(
            max_epochs=args.epochs, factor=args.hyperband_factor, **options
        )
    return tuner_class(max_trials=args.max_trials, **options)


def search_data(dataset, args):
    """The examples to search on: `((x_train, y_train), (x_val, y_val))`.

    A random sample of the training data (all of it, or
    --max-train-samples, drawn with --seed) whose last --validation-split
    is held out to select on (`keras_perceiver.training`).
    """
    from keras_perceiver.datasets.splits import shuffled_examples, split_validation

    x, y = shuffled_examples(dataset.x_train, dataset.y_train,
                             args.max_train_samples, args.seed)
    try:
        fitted, validation_data = split_validation(x, y,
                                                   args.validation_split)
    except ValueError:
        raise CommandError(
            f"--validation-split {args.validation_split} of {len(y)} "
            "examples leaves none to train on"
        ) from None
    num_validation = len(validation_data[1])
    if num_validation < MIN_VALIDATION_EXAMPLES:
        print(
            f"keras-perceiver: warning: only {num_validation} validation "
            "examples: the validation scores that choose the best trial "
            "are mostly noise; use more examples (--max-train-samples) or a "
            "larger --validation-split",
            file=sys.stderr,
        )
    return fitted, validation_data


def save_best(tuner, dataset, args, output_dir):
    """Saves the best trial's model and a summary with its test scores."""
    from keras_tuner.engine.trial import TrialStatus

    from keras_perceiver.training.run_checkpoint import finite_or_none
    from keras_perceiver.training import evaluate

    completed = [
        trial for trial in tuner.oracle.trials.values()
        if trial.status == TrialStatus.COMPLETED
    ]
    if not completed:
        raise CommandError(
            f"no trial finished; see {output_dir / 'results.md'} for why"
        )
    best_trial = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    with atomic_path(output_dir / "best_model.keras") as temporary:
        model.save(temporary)
    test_loss, test_accuracy = evaluate(model, dataset, args.batch_size)
    summary = {
        "dataset": dataset.name,
        "trial": best_trial.trial_id,
        "hyperparameters": best_trial.hyperparameters.values,
        args.objective: finite_or_none(best_trial.score),
        "num_params": int(model.count_params()),
        "test_loss": finite_or_none(test_loss),
        "test_accuracy": finite_or_none(test_accuracy),
        "finished_trials": len(completed),
    }
    write_text_atomically(output_dir / "best.json",
                          json.dumps(summary, indent=2, allow_nan=False))
    print(
        f"Best trial {best_trial.trial_id}: {args.objective} "
        f"{best_trial.score:.4f}, {model.count_params():,} parameters, "
        f"test accuracy {test_accuracy:.4f} (measured once, after the "
        f"search). Saved {output_dir / 'best_model.keras'}"
    )
