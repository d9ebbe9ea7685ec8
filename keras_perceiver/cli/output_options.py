"""The output directory of `train` and `tune`: whose it is, and Ctrl-C."""

import os

from keras_perceiver.cli.main import CommandError, first_line
from keras_perceiver.training.run_directory import MARKER_NAME, RunDirectory


def add_overwrite_argument(group, results, subfolder):
    """Adds `--overwrite-output-dir` to the argument group `group`.

    Args:
        group: an argparse argument group.
        results: list of str. The file names the command writes.
        subfolder: str. The command's own subfolder (refused when another
            tool's).
    """
    group.add_argument(
        "--overwrite-output-dir", action="store_true",
        help="write into an --output-dir that keras-perceiver did not "
             "create (a folder holding other files is refused otherwise): "
             f"it is marked as keras-perceiver's ({MARKER_NAME}), files "
             f"there named {', '.join(results)} are replaced, and every "
             f"other file is left alone; refused while a {subfolder}/ "
             "folder of another tool is there",
    )


def hold_given_output_dir(path, args, written_before, subfolder):
    """The locked `RunDirectory` at `path`, or a `CommandError`.

    A non-empty folder without this tool's marker is refused unless
    `written_before` or `--overwrite-output-dir` (where the command's own
    `subfolder` must not be there: another tool's would be read and
    pruned as the command's own).

    Args:
        path: path. The output directory.
        args: the parsed command line (`overwrite_output_dir`).
        written_before: bool. Whether `path` holds the command's own
            records, written by a release before the marker file.
        subfolder: str. The command's own subfolder ("checkpoints").
    """
    overwrite = args.overwrite_output_dir
    directory = RunDirectory(path, adopt=written_before or overwrite)
    if (overwrite and not written_before and directory.foreign()
            and os.path.lexists(path / subfolder)):
        raise CommandError(
            f"{path / subfolder} was not written by keras-perceiver, and "
            "--overwrite-output-dir leaves other tools' files alone: move "
            "it away, or choose another --output-dir"
        )
    try:
        return directory.lock()
    except ValueError as error:
        hint = ""
        if directory.foreign() and not directory.adopt:
            hint = "; or add --overwrite-output-dir to write there beside them"
        raise CommandError(first_line(error) + hint) from None
