"""`keras-perceiver tune`: search latent sizes and depths with KerasTuner.

The search is `keras_perceiver.tuning`'s: `PerceiverHyperModel` in a
`crash_safe_tuner`, then `write_results` and `save_best_trial`.
"""

import pathlib
import sys

from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    data_name,
    load_dataset,
)
from keras_perceiver.cli.main import interrupted, library_errors
from keras_perceiver.cli.model_options import MODEL_OPTIONS
from keras_perceiver.cli.tune_options import (
    OPTIMIZER_OPTIONS,
    SEARCH,
    TUNERS,
    add_fixed_model_arguments,
    add_search_arguments,
    add_search_space_arguments,
    check_search_arguments,
)
from keras_perceiver.training.defaults import MODEL_HYPERPARAMETERS


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


def run(args):
    """Holds the output directory for the search (one search at a time)."""
    from keras_perceiver.training.run_directory import RunDirectory

    check_search_arguments(args)
    output_dir = pathlib.Path(
        args.output_dir or f"runs/tune-{data_name(args)}"
    )
    # A search of a release before the marker file: KerasTuner's state.
    earlier = (output_dir / SEARCH / "oracle.json").is_file()
    with library_errors():
        run_directory = RunDirectory.held(
            output_dir, args.overwrite_output_dir, earlier, SEARCH)
        try:
            search_in(output_dir, args)
        except KeyboardInterrupt:
            return interrupted("interrupted; run the same command to resume "
                               "the search (finished trials are kept)")
        finally:
            run_directory.release()


def search_in(output_dir, args):
    """Searches (or resumes) and writes the results to `output_dir`."""
    import keras

    from keras_perceiver import tuning

    # The tuner searches on in-memory arrays (--data sources are read whole).
    dataset = load_dataset(args, in_memory=True)
    keras.utils.set_random_seed(args.seed)
    hypermodel = make_hypermodel(args, dataset)
    with tuning.crash_safe_tuner(
            lambda: make_tuner(args, hypermodel, output_dir)) as tuner:
        tuner.search_space_summary()
        search(tuner, dataset, args)
    paths = tuning.write_results(tuner, output_dir)
    print(pathlib.Path(paths["markdown"]).read_text())
    best = tuning.save_best_trial(tuner, dataset, output_dir,
                                  args.batch_size)
    print(
        f"Best trial {best['trial']}: {args.objective} "
        f"{best[args.objective]:.4f}, {best['num_params']:,} parameters, "
        f"test accuracy {best['test_accuracy']:.4f} (measured once, after "
        f"the search). Saved {output_dir / 'best_model.keras'}"
    )
    print(f"Wrote {', '.join(paths.values())}")


def search(tuner, dataset, args):
    """Runs (or resumes) the search until it ends or its time is spent."""
    import keras

    from keras_perceiver import tuning

    (x_train, y_train), validation_data = tuning.search_data(
        dataset, args.validation_split, args.max_train_samples, args.seed)
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


def make_hypermodel(args, dataset):
    """The `PerceiverHyperModel` that the command line describes."""
    import keras

    from keras_perceiver.models.perceiver_for_dataset import input_adapter_for
    from keras_perceiver.tuning import PerceiverHyperModel

    names = MODEL_HYPERPARAMETERS + tuple(
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
        if name not in MODEL_HYPERPARAMETERS
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
