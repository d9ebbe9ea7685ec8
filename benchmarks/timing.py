"""Timing helpers shared by the workers, and the JSON line they print."""

import json
import resource
import statistics
import sys
import time

RESULT_PREFIX = "RESULT "


def time_steps(step, warmup, repeats, steps):
    """Seconds per call of `step`: the median over `repeats` timings.

    Each call is waited for (`wait_for` its result), so that work a
    backend dispatched asynchronously (JAX) is counted, and an error it
    raised is raised here. The first `warmup` calls (compilation, caches)
    are not timed.

    Returns:
        A dict with the median, minimum and maximum seconds per step and
        the warm-up time (which includes compilation).
    """
    start = time.perf_counter()
    for _ in range(warmup):
        wait_for(step())
    warmup_s = time.perf_counter() - start
    per_step = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            wait_for(step())
        per_step.append((time.perf_counter() - start) / steps)
    return {
        "median_s": statistics.median(per_step),
        "min_s": min(per_step),
        "max_s": max(per_step),
        "warmup_s": warmup_s,
        "timed_steps": repeats * steps,
    }


def wait_for(result):
    """Blocks until `result` (a value, or a list, tuple or dict of them) is
    computed: JAX returns arrays before their computation has run."""
    if isinstance(result, dict):
        result = list(result.values())
    for value in result if isinstance(result, (list, tuple)) else [result]:
        if hasattr(value, "block_until_ready"):
            value.block_until_ready()
    return result


def peak_rss_bytes():
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(result):
    """Prints one result for the driver to collect."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    sys.stdout.flush()


def parse_results(stdout):
    """The results a worker printed with `emit`."""
    return [
        json.loads(line[len(RESULT_PREFIX):])
        for line in stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
