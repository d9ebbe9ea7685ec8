"""`torchrun_command`: the command run again as torchrun processes."""

from keras_perceiver.python_command import isolated_module_command


def torchrun_command(num_processes, arguments):
    """The command line of `keras-perceiver ARGUMENTS` under torchrun.

    `torchrun --standalone --nproc_per_node=N` on this host; the launcher
    and each of its processes run in an isolated Python
    (`isolated_module_command`), so that no `torch.py` or `keras.py` in the
    working directory is imported.

    Args:
        num_processes: int. The processes torchrun starts (one per device).
        arguments: list of str. The command's arguments, e.g.
            `sys.argv[1:]`.

    Returns:
        A list of str, for `os.execv`.

    Example:

    >>> command = torchrun_command(2, ["train", "--dataset", "digits"])
    >>> command[-3:]
    ['train', '--dataset', 'digits']
    """
    launcher = isolated_module_command(
        "torch.distributed.run", "--standalone",
        f"--nproc_per_node={num_processes}", "--no-python",
    )
    return [*launcher,
            *isolated_module_command("keras_perceiver.cli", *arguments)]
