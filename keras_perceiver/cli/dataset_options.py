"""Command-line options that choose and load a data set."""

from keras_perceiver.cli.main import CommandError, first_line


def add_dataset_arguments(parser):
    """Adds `--dataset`, `--data-dir` and `--audio-features` to `parser`."""
    parser.add_argument(
        "--dataset", required=True,
        help="data set name, e.g. digits, mnist, cifar10, fsdd, modelnet40, "
             "msr_action3d",
    )
    parser.add_argument(
        "--data-dir", default=None,
        help="folder with a local copy of the data set (default: the usual "
             "public source; digits needs none)",
    )
    add_audio_features_argument(parser)


def add_audio_features_argument(parser):
    """Adds `--audio-features` (for fsdd and mnist_fsdd) to `parser`."""
    parser.add_argument(
        "--audio-features", choices=("waveform", "log_mel"), default=None,
        help="fsdd and mnist_fsdd: raw waveforms or log-mel spectrograms "
             "(default: waveform)",
    )


def load_dataset(args):
    """Loads the data set the command line names, or raises CommandError."""
    from keras_perceiver import datasets

    try:
        options = {}
        if args.audio_features is not None:
            options["audio_features"] = args.audio_features
        return datasets.load(args.dataset, data_dir=args.data_dir, **options)
    except (ValueError, OSError, KeyError) as error:
        raise CommandError(first_line(error)) from None
