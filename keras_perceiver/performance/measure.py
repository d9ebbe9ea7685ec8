"""Times training steps of one backend's candidates, in a process of its own.

    KERAS_BACKEND=torch python -m keras_perceiver.performance.measure < request.json

The request (JSON on standard input) holds the workload, the candidates
(this process's backend, each a precision and whether compiled), when the
process was started (`spawned_at`) and when it must be done (`deadline`),
both as `time.time()`. The process builds the workload's model (a new
one per precision policy), prints its start-up time (process start to a
built model), then for each candidate compiles the model with the
training recipe, times the first training step (tracing and compiling
included) and then `MIN_TIMED_STEPS` steps, more only while they take
less than `STEADY_S` seconds together and its share of the time left
lasts: the first steps (compiling) are what a budget must leave room
for, and a median of a few steps ranks the candidates. Each result is
one line of standard output, `RESULT_PREFIX` and a JSON object, printed
as soon as it is known: a process stopped at its deadline keeps what it
finished.
"""

import json
import statistics
import sys
import time

RESULT_PREFIX = "keras-perceiver-measurement: "
MIN_TIMED_STEPS = 3
MAX_TIMED_STEPS = 50
# With 60 s for every candidate, a backend's later candidates were left
# unmeasured while its first one timed steps for half its share (the
# digits model, 7 December 2026: 4 of 10 candidates measured).
STEADY_S = 1.0


def main():
    request = json.loads(sys.stdin.read())
    from keras_perceiver.performance.workload import load_workload

    workload = load_workload(request["workload"])
    models = {"float32": workload.build_model()}
    report({"startup_s": time.time() - request["spawned_at"],
            "steps_per_epoch": workload.steps_per_epoch})
    candidates = request["candidates"]
    for index, candidate in enumerate(candidates):
        model = model_under(candidate["precision"], models, workload)
        # At most STEADY_S, or half of this candidate's share of the time
        # left; the first steps of the next ones take the rest.
        seconds = min(STEADY_S, (request["deadline"] - time.time()) / (
            2 * (len(candidates) - index)))
        report({**candidate,
                **time_steps(model, workload, candidate["compiled"],
                             seconds)})


def report(result):
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def model_under(precision, models, workload):
    """The workload's model under the dtype policy `precision`, built once
    per policy (a policy is fixed when a layer is created)."""
    import keras

    if precision not in models:
        keras.config.set_dtype_policy(precision)
        try:
            models[precision] = workload.build_model()
        finally:
            keras.config.set_dtype_policy("float32")
    return models[precision]


def time_steps(model, workload, compiled, seconds):
    """Compiles `model` (the training recipe, `jit_compile=compiled`) and
    times its training steps on the workload's batch.

    Returns:
        A dict: "first_step_s", "step_s" (the median of the later steps)
        and "steps_timed".
    """
    from keras_perceiver.training.recipe import compile_for_classification

    compile_for_classification(model, jit_compile=compiled)
    first_step_s = _step_seconds(model, workload)
    times = []
    until = time.perf_counter() + seconds
    while len(times) < MIN_TIMED_STEPS or (
            time.perf_counter() < until and len(times) < MAX_TIMED_STEPS):
        times.append(_step_seconds(model, workload))
    return {"first_step_s": first_step_s, "step_s": statistics.median(times),
            "steps_timed": len(times)}


def _step_seconds(model, workload):
    started = time.perf_counter()
    model.train_on_batch(workload.inputs, workload.labels)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
