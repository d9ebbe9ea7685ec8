"""Measuring for real: a tiny model timed in a measuring process, and a
process stopped at the end of its budget.

Both need a new process: measuring runs each backend in one of its own.
"""

import keras
import pytest
from support import tiny_perceiver

from keras_perceiver.performance.candidate import FLOOR
from keras_perceiver.performance.measurement import Measurement
from keras_perceiver.performance.measuring import OVER_BUDGET
from keras_perceiver.performance.measuring import measure
from keras_perceiver.performance.workload import MODEL_WORKLOAD


def tiny_workload():
    model = tiny_perceiver(num_blocks=1)
    model.build((None, 8, 8, 1))
    return {"build": MODEL_WORKLOAD,
            "arguments": {"model": keras.saving.serialize_keras_object(model),
                          "input_shape": [8, 8, 1]},
            "batch_size": 4}


# A measuring process under torch (eager, the cheapest to start).
@pytest.mark.slow
@pytest.mark.one_backend("torch")
def test_a_tiny_model_is_measured_with_positive_times():
    rows = [Measurement(FLOOR)]
    measure(tiny_workload(), rows, budget_s=120)
    row = rows[0]
    assert row.note == "" and row.measured, row
    assert row.startup_s > 0 and row.first_step_s > 0 and row.step_s > 0
    assert row.steps_timed >= 2


@pytest.mark.backend_independent
def test_a_process_over_its_budget_is_stopped_and_says_so():
    rows = [Measurement(FLOOR)]
    measure(tiny_workload(), rows, budget_s=0.2)
    assert rows[0].note == OVER_BUDGET and not rows[0].measured
