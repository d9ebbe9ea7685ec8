"""Command-line options that choose and load a data set."""

from keras_perceiver.cli.main import CommandError, first_line


def add_dataset_arguments(parser):
    """Adds `--dataset` and `--data-dir` to `parser`."""
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


def load_dataset(args):
    """Loads the data set the command line names, or raises CommandError."""
    from keras_perceiver import datasets

    try:
        return datasets.load(args.dataset, data_dir=args.data_dir)
    except (ValueError, OSError, KeyError) as error:
        raise CommandError(first_line(error)) from None
