"""Command-line options that choose and load a data set."""

import pathlib
import re

from keras_perceiver.cli.main import CommandError, first_line

# Options of `keras_perceiver.datasets.load_source`:
# (flag, option name, type, help).
SOURCE_OPTIONS = (
    ("--modality", "modality", str,
     "folders and .npz files: image, audio, points or sequence (default: "
     "from the file extensions or array shapes)"),
    ("--image-size", "image_size", int,
     "images and video frames of --data: resize to this square size "
     "(default: the TFDS feature's size, else the most common size)"),
    ("--max-length", "max_length", int,
     "audio samples, sequence steps or video frames per example; longer "
     "ones are cut, shorter ones padded and masked (default: the longest; "
     "video frames rounded up to an even number)"),
    ("--num-points", "num_points", int,
     "points per cloud; larger clouds are sampled, smaller ones padded and "
     "masked (default: 1024)"),
    ("--test-fraction", "test_fraction", float,
     "share of the examples held out for testing when the source has no "
     "test split (default: 0.2)"),
    ("--label-column", "label_column", str,
     "CSV: the label column (default: label)"),
    ("--label-feature", "label_feature", str,
     "TFDS: the label feature (default: the one ClassLabel feature)"),
    ("--input-feature", "input_feature", str,
     "TFDS: the input feature (default: the first image, audio, video or "
     "sequence feature)"),
    ("--train-split", "train_split", str, "TFDS: the training split "
     "(default: train)"),
    ("--test-split", "test_split", str,
     "TFDS: the test split (default: test or validation if there is one, "
     "else the last --test-fraction of the training split)"),
)
# What a model trained on files records, as `load_source` options.
MODEL_PREPROCESSING_OPTIONS = ("modality", "image_size", "max_length",
                               "num_points", "audio_features")


def add_dataset_arguments(parser):
    """Adds `--dataset NAME` or `--data SOURCE`, and their options."""
    source = parser.add_mutually_exclusive_group(required=True)
    add_source_arguments(parser, source)


def add_source_arguments(parser, source):
    """Adds `--dataset` and `--data` to the exclusive group `source`, and
    `--data-dir`, `--audio-features` and the `--data` options to `parser`."""
    source.add_argument(
        "--dataset",
        help="a built-in data set: digits, mnist, cifar10, fsdd, modelnet40, "
             "msr_action3d or mnist_fsdd",
    )
    source.add_argument(
        "--data", metavar="SOURCE",
        help="your own data: a folder with one subfolder per class (images, "
             "WAV audio, point clouds or sequences), tfds:NAME (a prepared "
             "TensorFlow Datasets data set), an .npz file or a .csv file",
    )
    parser.add_argument(
        "--data-dir", default=None,
        help="--dataset: folder with a local copy (default: the usual public "
             "source; digits needs none); --data tfds:NAME: the TFDS data "
             "directory",
    )
    parser.add_argument(
        "--audio-features", choices=("waveform", "log_mel"), default=None,
        help="audio (fsdd, mnist_fsdd, WAV folders, TFDS audio): raw "
             "waveforms or log-mel spectrograms (default: waveform)",
    )
    group = parser.add_argument_group(
        "--data options", "Options of --data sources (the saved model's "
        "own settings are used by evaluate and predict)."
    )
    for flag, name, kind, help_text in SOURCE_OPTIONS:
        group.add_argument(flag, dest=name, type=kind, default=None,
                           help=help_text)
    group.add_argument(
        "--skip-bad-files", action="store_true",
        help="folders: leave out unreadable files (and say how many) "
             "instead of stopping at the first",
    )


def data_name(args):
    """A short name for the data, fit to name one folder: the built-in
    name, the folder or file name, or the TFDS name, with every run of
    characters other than letters, digits, `.`, `_` and `-` made one `_`
    and leading and trailing `.`, `_` and `-` removed (so no `..`, no path
    separator); "data" if nothing is left."""
    if args.dataset is not None:
        name = args.dataset
    elif args.data.startswith("tfds:"):
        name = args.data[len("tfds:"):]
    else:
        name = pathlib.Path(args.data).stem
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return name[:100] or "data"


def load_dataset(args, in_memory=False, model=None):
    """Loads the data the command line names, or raises CommandError.

    Args:
        args: the parsed command line.
        in_memory: bool. Load streamed sources whole (for the tuner and
            several devices). Defaults to False.
        model: a loaded model or None. Its recorded preprocessing fills the
            options not given, and the labels are mapped to its classes.
    """
    from keras_perceiver import datasets

    if args.data is None:
        _check_no_source_options(args)
    try:
        if args.data is None:
            dataset = datasets.load(args.dataset, data_dir=args.data_dir,
                                    **_given(args, ["audio_features"]))
        else:
            dataset = datasets.load_source(args.data,
                                           **_source_options(args, model))
            _report_skipped(dataset)
        if getattr(model, "class_names", None):
            dataset = dataset.relabeled(model.class_names)
        return dataset.in_memory() if in_memory else dataset
    except (ValueError, OSError, KeyError) as error:
        raise CommandError(first_line(error)) from None


def _check_no_source_options(args):
    """`--data` options given with `--dataset` (where they do nothing)."""
    stray = [flag for flag, name, *_ in SOURCE_OPTIONS
             if name != "image_size" and getattr(args, name) is not None]
    if args.skip_bad_files:
        stray.append("--skip-bad-files")
    if stray:
        raise CommandError(
            f"{', '.join(stray)} apply to --data sources, not to --dataset"
        )


def _given(args, names):
    return {name: getattr(args, name) for name in names
            if getattr(args, name, None) is not None}


def _source_options(args, model):
    from keras_perceiver import datasets
    from keras_perceiver.preprocessing.preprocessor import file_settings

    names = [name for _, name, *_ in SOURCE_OPTIONS]
    options = _given(args, [*names, "audio_features", "data_dir"])
    if args.skip_bad_files:
        options["skip_bad_files"] = True
    accepted = datasets.source_options(args.data)
    recorded = file_settings(getattr(model, "preprocessor", None)) or {}
    for name in MODEL_PREPROCESSING_OPTIONS:
        if name in recorded and name in accepted:
            options.setdefault(name, recorded[name])
    return options


def _report_skipped(dataset):
    skipped = getattr(dataset, "skipped_files", [])
    if skipped:
        print(f"Skipped {len(skipped)} unreadable files (the first: "
              f"{skipped[0]})")
