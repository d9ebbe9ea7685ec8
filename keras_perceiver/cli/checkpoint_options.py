"""Command-line options that load a Hugging Face Perceiver checkpoint."""

from keras_perceiver.cli.main import CommandError, first_line


def add_checkpoint_arguments(parser, help_text):
    """Adds `--checkpoint` and `--image-size` to `parser`."""
    group = parser.add_argument_group("checkpoint options")
    group.add_argument(
        "--checkpoint", default=None, metavar="NAME_OR_FOLDER",
        help=help_text,
    )
    group.add_argument(
        "--image-size", type=int, default=None,
        help="with --checkpoint: build the model for square images of this "
             "size (Fourier and conv checkpoints; default: the checkpoint's, "
             "224)",
    )


def load_image_checkpoint(args):
    """The checkpoint's image classifier and its `ImagePreprocessor`."""
    from keras_perceiver import checkpoints

    if args.image_size is not None and args.image_size <= 0:
        raise CommandError(
            f"--image-size must be a positive integer, got {args.image_size}"
        )
    try:
        preprocessor = checkpoints.load_image_preprocessor(
            args.checkpoint, image_size=args.image_size
        )
        model = checkpoints.load_checkpoint(
            args.checkpoint, image_size=args.image_size
        )
    except ValueError as error:
        raise CommandError(first_line(error)) from None
    return model, preprocessor
