"""Measures the candidates within a time budget: one process per backend.

Each group of consecutive candidates of one backend (`CANDIDATES`' order:
torch eager, TensorFlow, JAX, then torch.compile) runs in a new process
(`keras_perceiver.performance.measure`) under that backend. A group gets a
share of the budget left, in proportion to its candidates plus
`STARTUP_WEIGHT` (its start-up: importing the backend, loading the data,
building the model, which for a small model takes longer than measuring
it); what a group leaves unused goes to the next. A process still
running at the end of its share is stopped (with the processes it
started): what it had not finished is "not measured: over the budget",
never chosen.
"""

import itertools
import json
import os
import signal
import subprocess
import time

from keras_perceiver.performance.measure import RESULT_PREFIX
from keras_perceiver.python_command import isolated_module_command

MEASURE_MODULE = "keras_perceiver.performance.measure"
OVER_BUDGET = "not measured: over the budget"
STARTUP_WEIGHT = 2


def measure(workload, rows, budget_s):
    """Measures the rows that have no note, in place.

    Args:
        workload: dict. The workload (see `workload.load_workload`).
        rows: list of `Measurement`. A row with a note (not a candidate
            here) is left alone.
        budget_s: float. Seconds of wall time for all processes together.

    Returns:
        int or None: the training steps per epoch the workload reported.
    """
    started = time.monotonic()
    groups = [list(group) for _, group in itertools.groupby(
        [row for row in rows if not row.note],
        key=lambda row: row.candidate.backend)]
    weights = [len(group) + STARTUP_WEIGHT for group in groups]
    steps_per_epoch = None
    for index, group in enumerate(groups):
        left = budget_s - (time.monotonic() - started)
        seconds = left * weights[index] / sum(weights[index:])
        if seconds <= 0:
            _note(group, OVER_BUDGET)
            continue
        results, failure = _run_process(workload, group, seconds)
        steps_per_epoch = _fill(group, results, failure) or steps_per_epoch
    return steps_per_epoch


def _run_process(workload, group, seconds):
    """Runs the measuring process of `group` for at most `seconds`; its
    results and, if it did not finish, why."""
    backend = group[0].candidate.backend
    spawned_at = time.time()
    request = {
        "workload": workload, "spawned_at": spawned_at,
        "deadline": spawned_at + seconds,
        "candidates": [{"precision": row.candidate.precision,
                        "compiled": row.candidate.compiled} for row in group],
    }
    environment = dict(os.environ, KERAS_BACKEND=backend)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    process = subprocess.Popen(
        isolated_module_command(MEASURE_MODULE), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment, start_new_session=True)
    failure = None
    try:
        output, errors = process.communicate(json.dumps(request),
                                             timeout=seconds)
        if process.returncode != 0:
            lines = errors.strip().splitlines() or [
                f"exit status {process.returncode}"]
            failure = f"failed: {lines[-1][:200]}"
    except subprocess.TimeoutExpired:
        _stop(process)
        output, _ = process.communicate()
        failure = OVER_BUDGET
    finally:
        _stop(process)  # also on Ctrl-C: nothing is left running
    results = [json.loads(line[len(RESULT_PREFIX):])
               for line in output.splitlines()
               if line.startswith(RESULT_PREFIX)]
    return results, failure


def _stop(process):
    """Kills `process` and the processes it started (its session)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def _fill(group, results, failure):
    """Copies a process's results into its rows; returns the workload's
    steps per epoch."""
    if not results:
        _note(group, failure)
        return None
    startup, *measured = results
    for row, result in itertools.zip_longest(group, measured):
        if result is None:
            row.note = failure or OVER_BUDGET
            continue
        row.startup_s = startup["startup_s"]
        row.first_step_s = result["first_step_s"]
        row.step_s = result["step_s"]
        row.steps_timed = result["steps_timed"]
    return startup["steps_per_epoch"]


def _note(rows, note):
    for row in rows:
        row.note = note
