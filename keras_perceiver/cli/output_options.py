"""The output directory option of `train` and `tune`
(`RunDirectory.held` holds the directory)."""

from keras_perceiver.training.run_directory import MARKER_NAME


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
