"""Command-line options that load a Hugging Face Perceiver checkpoint."""

from keras_perceiver.cli.main import (
    CommandError,
    check_positive_ints,
    first_line,
)
from keras_perceiver.cli.model_options import MODEL_OPTIONS

# Options a checkpoint decides; --dropout still sets the new decoder's.
_SET_BY_CHECKPOINT = [
    (flag, name, default)
    for flag, name, _, default, _ in MODEL_OPTIONS
    if name != "dropout"
] + [("--patch-size", "patch_size", None), ("--crop-size", "crop_size", None)]


def add_checkpoint_arguments(parser, help_text):
    """Adds `--checkpoint` to `parser` (whose `--image-size`, from the data
    options, also sets the checkpoint's image size)."""
    group = parser.add_argument_group(
        "checkpoint options", "With --checkpoint, --image-size is the size "
        "the checkpoint's model is built for (Fourier and conv checkpoints; "
        "default: 224)."
    )
    group.add_argument(
        "--checkpoint", default=None, metavar="NAME_OR_FOLDER",
        help=help_text,
    )


def check_model_source(args):
    """Raises unless the options fit the model's source.

    With `--checkpoint` the checkpoint fixes the architecture, so the model
    and input options would be ignored; without it and without `--data`,
    `--image-size` would be.
    """
    if args.checkpoint is None:
        if args.image_size is not None and args.data is None:
            raise CommandError("--image-size needs --checkpoint or --data")
        return
    given = [
        flag
        for flag, name, default in _SET_BY_CHECKPOINT
        if getattr(args, name) != default
    ]
    if given:
        raise CommandError(
            f"--checkpoint fixes the model: leave out {', '.join(given)}"
        )


def load_image_checkpoint(args):
    """The checkpoint's image classifier, with its `ImagePreprocessor` as
    `model.preprocessor`."""
    from keras_perceiver import pretrained

    check_positive_ints(args, "image_size")
    try:
        # Refuses a checkpoint that is not an image classifier before its
        # weights are read.
        pretrained.load_image_preprocessor(args.checkpoint)
        return pretrained.load_checkpoint(
            args.checkpoint, image_size=args.image_size
        )
    except ValueError as error:
        raise CommandError(first_line(error)) from None
