"""Command-line options that configure a `keras_perceiver.Perceiver`."""

# (flag, Perceiver argument, type, default, help)
MODEL_OPTIONS = (
    ("--num-latents", "num_latents", int, 64, "number of latents N"),
    ("--latent-dim", "latent_dim", int, 128, "latent width D"),
    ("--num-blocks", "num_blocks", int, 2, "number of cross-attends B"),
    ("--num-self-attends-per-block", "num_self_attends_per_block", int, 2,
     "self-attention layers L per block"),
    ("--num-cross-heads", "num_cross_heads", int, 1, "cross-attention heads"),
    ("--num-self-heads", "num_self_heads", int, 4, "self-attention heads"),
    ("--num-bands", "num_bands", int, 16, "Fourier bands per axis"),
    ("--weight-sharing", "weight_sharing", str, "paper",
     "paper, none or all"),
    ("--dropout", "dropout", float, 0.0, "dropout rate"),
)


def add_model_arguments(parser):
    """Adds the model options (small CPU-friendly defaults) to `parser`."""
    group = parser.add_argument_group("model options")
    for flag, _, kind, default, help_text in MODEL_OPTIONS:
        group.add_argument(
            flag, type=kind, default=default,
            help=f"{help_text} (default: {default})",
        )


def model_kwargs(args):
    """The Perceiver keyword arguments chosen on the command line."""
    return {name: getattr(args, name) for _, name, *_ in MODEL_OPTIONS}


def add_input_arguments(parser):
    """Adds the input adapter options (patches, crops) to `parser`."""
    group = parser.add_argument_group("input options")
    group.add_argument(
        "--patch-size", type=int, default=None,
        help="images, spectrograms and videos: square patches (cubes of "
             "frames x rows x columns for videos) of this size become the "
             "input elements (default: pixels; 4 x 4 spectrogram patches; "
             "2 x 8 x 8 video patches)",
    )
    group.add_argument(
        "--crop-size", type=int, default=None,
        help="images: random square crops of this size in training, "
             "central crops at inference, with crop-relative positions "
             "(default: no cropping)",
    )


def input_kwargs(args):
    """The `perceiver_for_dataset` input options chosen on the command line."""
    return {"patch_size": args.patch_size, "crop_size": args.crop_size}
