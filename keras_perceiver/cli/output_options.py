"""The output directory options of `train` and `tune`
(`RunDirectory.held` holds the directory)."""

from keras_perceiver.training.run_directory import MARKER_NAME


def add_output_dir_arguments(group, where, results, subfolder):
    """Adds `--output-dir` and `--overwrite-output-dir` to `group`.

    Args:
        group: an argparse argument group.
        where: str. The help of `--output-dir`: what goes there, and the
            default.
        results: list of str. The file names the command writes.
        subfolder: str. The command's own subfolder (refused when another
            tool's).
    """
    group.add_argument(
        "--output-dir", default=None,
        help=f"{where}; a folder of other files is refused",
    )
    group.add_argument(
        "--overwrite-output-dir", action="store_true",
        help="write into an --output-dir that keras-perceiver did not "
             "create (a folder holding other files is refused otherwise): "
             f"it is marked as keras-perceiver's ({MARKER_NAME}), files "
             f"there named {', '.join(results)} are replaced, and every "
             f"other file is left alone; refused while a {subfolder}/ "
             "folder of another tool is there",
    )
