"""`keras-perceiver train`: fit a Perceiver on a data set, resumably.

The run itself is `keras_perceiver.training.TrainingRun`; this module
turns the options into its `RunSpec`.
"""

import functools
import math
import sys

from keras_perceiver.cli import auto_options
from keras_perceiver.cli.checkpoint_options import (
    add_checkpoint_arguments,
    check_model_source,
    load_image_checkpoint,
)
from keras_perceiver.cli.dataset_options import (
    add_dataset_arguments,
    data_name,
    load_dataset,
)
from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    check_range,
    interrupted,
    library_errors,
)
from keras_perceiver.cli.model_options import (
    add_input_arguments,
    add_model_arguments,
    input_kwargs,
    model_kwargs,
)
from keras_perceiver.cli.train_options import (
    add_device_arguments,
    add_training_arguments,
)

# Options that may change between the runs of one output directory.
NOT_RUN_OPTIONS = ("run", "command", "backend", "output_dir", "epochs",
                   "continue_training", "restart", "devices", "distribution",
                   "jit_compile", "automatic", "precision", "compile",
                   "auto_budget")
# The options that `RunSpec` takes as they are.
SPEC_OPTIONS = ("output_dir", "epochs", "batch_size", "learning_rate",
                "schedule", "weight_decay", "validation_split",
                "mixed_precision", "jit_compile", "seed",
                "continue_training", "restart", "overwrite_output_dir")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a Perceiver on a data set",
        description="Train a Perceiver with Keras progress bars. Writes "
        "model.keras, history.csv, training_curves.png, attention_maps.png "
        "and metrics.json to the output directory, and a checkpoint after "
        "every epoch. Started again with the same output directory, it "
        "resumes from the last finished epoch; a finished run says so.",
    )
    add_dataset_arguments(parser)
    add_model_arguments(parser)
    add_input_arguments(parser)
    add_checkpoint_arguments(
        parser,
        "fine-tune a Hugging Face Perceiver image checkpoint (a folder in "
        "the Hugging Face layout, or a Hub id such as "
        "deepmind/vision-perceiver-conv): its encoder with a new decoder "
        "for the data set's classes, images resized to the checkpoint's "
        "size inside the model (the model and input options, except "
        "--dropout, do not apply)",
    )
    add_training_arguments(parser)
    add_device_arguments(parser)
    parser.set_defaults(run=run, automatic=choose_automatic)


def choose_automatic(args, argv):
    """Checks the options, then resolves `--precision` and `--compile`, and
    measures (or reads the cache) where they or `--backend` are auto."""
    check_training_arguments(args)
    return auto_options.resolve(args, argv)


def run(args):
    from keras_perceiver.distribution import distributed_training_for
    from keras_perceiver.training import TrainingRun

    check_training_arguments(args)
    with library_errors():
        distributed = distributed_training_for(
            args.devices, args.distribution, args.jit_compile,
            args.batch_size, sys.argv[1:])
        training_run = TrainingRun(run_spec(args, distributed))
        try:
            training_run.run()
        except KeyboardInterrupt:
            return interrupted(interrupted_message(training_run, args))
    if distributed is not None:
        distributed.finish()


def run_spec(args, distributed):
    """The `RunSpec` of the parsed command line."""
    from keras_perceiver.training import RunSpec

    return RunSpec(
        dataset=lambda: load_dataset(args, in_memory=distributed is not None),
        name=data_name(args),
        build_model=functools.partial(build_model, args),
        run_options=run_options(args),
        distributed=distributed,
        # A fine-tuned checkpoint is a Functional model that resizes and
        # normalises the images before its classifier: no maps to draw.
        draw_attention_maps=not args.checkpoint,
        **{name: getattr(args, name) for name in SPEC_OPTIONS},
    )


def interrupted_message(training_run, args):
    """What Ctrl-C stopped, and how to go on: a run in a folder of its own
    (no --output-dir) resumes with --output-dir naming that folder."""
    if training_run.checkpoint is None:  # several processes keep none
        return "interrupted; run the same command to train again"
    after = (f" after epoch {training_run.finished_epochs}"
             if training_run.finished_epochs else "")
    if args.output_dir is None:
        return (f"interrupted{after}; run the same command with "
                f"--output-dir {training_run.output_dir} to resume")
    return f"interrupted{after}; run the same command to resume"


def build_model(args, dataset):
    """The uncompiled model: a new Perceiver or a fine-tuned checkpoint."""
    from keras_perceiver.models import perceiver_for_dataset

    if args.checkpoint:
        return fine_tuned_checkpoint(args, dataset)
    return perceiver_for_dataset(dataset, **model_kwargs(args),
                                 **input_kwargs(args))


def run_options(args):
    """The options that define a run: a checkpoint under others is refused."""
    return {name: value for name, value in sorted(vars(args).items())
            if name not in NOT_RUN_OPTIONS}


def fine_tuned_checkpoint(args, dataset):
    """A checkpoint's encoder with a new head for the data set's classes."""
    from keras_perceiver.pretrained import fine_tuning_classifier

    if dataset.modality != "image":
        raise CommandError(
            f"--checkpoint fine-tunes image checkpoints; {dataset.name} "
            f"holds {dataset.modality} data"
        )
    checkpoint = load_image_checkpoint(args)
    print(f"Fine-tuning {args.checkpoint} with a new "
          f"{dataset.num_classes}-class head")
    return fine_tuning_classifier(
        checkpoint,
        dataset.input_shape,
        dataset.num_classes,
        class_names=list(dataset.class_names),
        dropout=args.dropout,
        preprocessor=dataset.preprocessing,
    )


def check_training_arguments(args):
    check_model_source(args)
    check_positive_ints(args, "epochs", "batch_size", "devices")
    check_range("--learning-rate", args.learning_rate, 0.0, math.inf,
                "a positive number", low_included=False)
    check_range("--weight-decay", args.weight_decay, 0.0, math.inf,
                "a number >= 0")
    check_range("--dropout", args.dropout, 0.0, 1.0, "in [0, 1)")
    check_range("--validation-split", args.validation_split, 0.0, 1.0,
                "in [0, 1)")
