"""`isolated_module_command`: run a module in a Python that trusts no
working directory.

`python -m module` puts the working directory first on `sys.path`, so a
`keras.py` (or `torch.py`) in the folder where a user runs the command would
be imported instead of the library. The package's own subprocesses (the
command started again under another backend, the torchrun workers) start
from this command instead.
"""

import os
import sys

# The folder that holds the `keras_perceiver` package: kept importable, last
# on `sys.path`, for a package that is used from its source folder.
PACKAGE_PARENT = os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
# `sys` is built in; everything else is imported once the working directory
# ("") is off the path (runpy is no frozen module on Python 3.10).
_RUN_MODULE = (
    "import sys; sys.path[:] = [p for p in sys.path if p] + [{parent!r}]; "
    "import runpy; "
    "runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
)


def isolated_module_command(module, *arguments):
    """The command line of `python -m module arguments...`, isolated.

    The module runs as under `python -m`, with `sys.argv[1:]` set to
    `arguments`, but the working directory is not on `sys.path` (no ""
    entry, as Python 3.11's `-P` does, on 3.10 too); `PYTHONPATH`, the
    site-packages and editable installs still count, and the folder that
    holds this package comes last.

    Args:
        module: str. The module to run, e.g. "keras_perceiver.cli".
        *arguments: str. Its command-line arguments.

    Returns:
        A list of str, for `subprocess.run` or `os.execv`.

    Example:

    >>> isolated_module_command("keras_perceiver.cli", "--help")[1]
    '-c'
    """
    code = _RUN_MODULE.format(parent=PACKAGE_PARENT, module=module)
    return [sys.executable, "-c", code, *arguments]
