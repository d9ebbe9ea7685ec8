"""Running the keras-perceiver command in tests.

`run_command` runs it as users do, in a new process, wherever a process
matters (`--backend`, start-up, several devices). `run_in_process`
calls the command's `main` in the test's process: the same parsing, runs,
one-line errors and exit statuses, without the seconds a new process
spends importing Keras and its backend. The other flows and the error
cases use it. `start_forked` runs `main` in a process of its own that a
test may kill, forked from a server process that imported the command's
libraries once.
"""

import contextlib
import csv
import io
import multiprocessing
import os
import subprocess
import sys

import keras


# The `keras-perceiver` script (`keras_perceiver_command`) as users run
# it, for `python -c`.
SCRIPT = "import sys, keras_perceiver_command as c; sys.exit(c.main())"


def command(*arguments):
    """The command line that runs keras-perceiver with `arguments`."""
    return [sys.executable, "-m", "keras_perceiver.cli",
            *map(str, arguments)]


def run_command(*arguments, cwd=None, timeout=600):
    """Runs keras-perceiver in a new process; returns the
    `subprocess.CompletedProcess` (text stdout and stderr)."""
    return subprocess.run(command(*arguments), capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def run_in_process(*arguments):
    """Runs keras-perceiver's `main` here, on the test's backend; returns a
    `subprocess.CompletedProcess` as `run_command` does.

    `--backend` is refused: another backend needs a new process (the
    command would replace this one).
    """
    from keras_perceiver.cli import main

    arguments = [str(argument) for argument in arguments]
    assert "--backend" not in arguments, "use run_command for --backend"
    stdout, stderr = io.StringIO(), io.StringIO()
    environment = dict(os.environ)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(
                stderr):
            returncode = main.main(arguments)
    finally:
        # What the command set for itself (TensorFlow's log level, the
        # dtype policy) does not reach later tests or their processes.
        os.environ.clear()
        os.environ.update(environment)
        keras.config.set_dtype_policy("float32")
    return subprocess.CompletedProcess(["keras-perceiver", *arguments],
                                       returncode, stdout.getvalue(),
                                       stderr.getvalue())


# What `train` and `tune` import as they run: a forked run starts with
# them imported (the seconds of imports a new process spends, once per
# test session instead of once per run).
FORKED_COMMAND_IMPORTS = [
    "keras_perceiver.cli.main", "keras_perceiver.cli.train",
    "keras_perceiver.cli.tune", "keras_perceiver.training",
    "keras_perceiver.tuning", "keras_perceiver.datasets",
    "keras_perceiver.reports", "sklearn.datasets", "matplotlib.pyplot",
]


def start_forked(*arguments, log=None):
    """Starts keras-perceiver's `main` with `arguments` in a process of its
    own, on the test's backend, forked from a server process that imported
    the command (a `multiprocessing` forkserver, itself a new process:
    nothing of the test's process is inherited).

    Args:
        *arguments: the command's arguments (no `--backend`).
        log: optional path of a file for the run's output, written
            unbuffered. Defaults to none kept.

    Returns:
        The started `multiprocessing.Process`; its `exitcode` is the
        command's exit status.
    """
    arguments = [str(argument) for argument in arguments]
    assert "--backend" not in arguments, "use run_command for --backend"
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORKED_COMMAND_IMPORTS)
    process = context.Process(target=_run_main_into,
                              args=(arguments, str(log or os.devnull)))
    process.start()
    return process


def _run_main_into(arguments, log):
    """In the forked process: `main(arguments)`, its output to `log`."""
    from keras_perceiver.cli import main

    with open(log, "w", buffering=1) as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        sys.stdout = sys.stderr = output
        status = main.main(arguments)
    sys.exit(status)


def one_line_error(result):
    """The one `keras-perceiver: error:` line of a run that failed with
    exit status 2 and no traceback."""
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("keras-perceiver: error:")]
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


def assert_one_line_error(result, message):
    """The run failed with one error line that contains `message`."""
    line = one_line_error(result)
    assert message in line, result.stderr[-2000:]


# A Perceiver small enough for a command-line test to train in seconds.
TINY_MODEL = ["--num-latents", "8", "--latent-dim", "16", "--num-blocks",
              "2", "--num-self-attends-per-block", "1", "--num-self-heads",
              "2", "--num-bands", "4"]
# Each of digits' splits in one batch (the training split's 1,294
# examples, the validation split's 144, the test split's 359): a step
# function is compiled once per split, not again for a last, smaller batch.
ONE_BATCH = ["--batch-size", "2048"]


def epochs_logged(history_path):
    """The epochs a run's `history.csv` records, in order."""
    if not history_path.is_file():
        return []
    with open(history_path, newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]
