"""The choosing rules and the cache, on injected measurements (no process
is started): the floor, bfloat16 where it is emulated, a candidate over
the budget, the run length, the cache's key and a damaged cache file."""

import json

import pytest

from keras_perceiver.performance import choosing
from keras_perceiver.performance import machine
from keras_perceiver.performance import measurement_cache
from keras_perceiver.performance.candidate import Candidate
from keras_perceiver.performance.candidate import FLOOR
from keras_perceiver.performance.measurement import Measurement
from keras_perceiver.performance.measuring import OVER_BUDGET

pytestmark = pytest.mark.backend_independent

TF_XLA = Candidate("tensorflow", "float32", True)
TORCH_BF16 = Candidate("torch", "mixed_bfloat16", False)
TORCH_COMPILED = Candidate("torch", "float32", True)
WORKLOAD = {"build": "tests:none", "arguments": {"num_latents": 8},
            "batch_size": 32}


def row(candidate, startup_s=5.0, first_step_s=1.0, step_s=0.1, note=""):
    return Measurement(candidate, startup_s, first_step_s, step_s,
                       steps_timed=10, note=note)


@pytest.mark.parametrize("tf_step_s, chosen", [
    (0.097, FLOOR),   # 3 % faster: within the margin, the floor stays
    (0.09, TF_XLA),   # 10 % faster: chosen
    (0.2, FLOOR),     # slower: never chosen over the floor
])
def test_nothing_is_chosen_unless_clearly_faster_than_the_floor(tf_step_s,
                                                                chosen):
    rows = [row(FLOOR, startup_s=0.0, first_step_s=0.0),
            row(TF_XLA, startup_s=0.0, first_step_s=0.0, step_s=tf_step_s)]
    assert choosing.pick(rows, steps=1001).candidate == chosen


def test_a_candidate_over_the_budget_is_never_chosen():
    rows = [row(FLOOR),
            Measurement(TORCH_COMPILED, first_step_s=1.0, step_s=0.001,
                        note=OVER_BUDGET)]
    assert choosing.pick(rows, steps=10_000).candidate == FLOOR


def test_compiling_pays_only_in_a_long_run():
    rows = [row(FLOOR, step_s=0.1),
            row(TORCH_COMPILED, first_step_s=60.0, step_s=0.05)]
    assert choosing.pick(rows, steps=300).candidate == FLOOR
    assert choosing.pick(rows, steps=5_000).candidate == TORCH_COMPILED


@pytest.mark.parametrize("candidate, recompiles", [
    (TF_XLA, 2),          # the evaluation step and the short last batch
    (TORCH_COMPILED, 1),  # the evaluation step: its batch is dynamic
])
def test_a_prediction_counts_the_compilations_a_run_pays(candidate,
                                                         recompiles):
    measured = row(candidate, startup_s=5.0, first_step_s=3.0, step_s=1.0)
    # Start-up, the first step, 9 steps, and 2 s per compilation again.
    assert measured.predicted_s(10) == 5.0 + 3.0 + 9 + 2.0 * recompiles


def test_fixed_values_narrow_the_candidates():
    rows = [row(FLOOR), row(TF_XLA, step_s=0.01), row(TORCH_BF16, step_s=0.05)]
    assert choosing.pick(rows, 1000, backend="torch").candidate == TORCH_BF16
    assert choosing.pick(rows, 1000, precision="float32").candidate == TF_XLA
    with pytest.raises(ValueError, match="No candidate was measured"):
        choosing.pick(rows, 1000, backend="jax")


@pytest.fixture
def measured(monkeypatch, tmp_path):
    """A cache in tmp_path and a fake measurement: each candidate row gets
    `times[candidate]` (else the floor's times); returns the calls."""
    monkeypatch.setenv(measurement_cache.CACHE_VARIABLE, str(tmp_path))
    monkeypatch.setattr(machine, "installed_backends",
                        lambda: ["tensorflow", "jax", "torch"])
    calls = []

    def fake_measure(workload, rows, budget_s):
        calls.append(workload)
        for measurement in rows:
            if not measurement.note:
                times = FAKE_TIMES.get(measurement.candidate, (5.0, 1.0, 0.1))
                (measurement.startup_s, measurement.first_step_s,
                 measurement.step_s) = times
        return 50

    monkeypatch.setattr(choosing, "measure", fake_measure)
    return calls


# bfloat16 eager torch "measures" ten times faster than float32.
FAKE_TIMES = {TORCH_BF16: (5.0, 1.0, 0.01)}


DESCRIBE = machine.describe


def fake_cpu(monkeypatch, folder, flags):
    """Makes the machine a CPU with `flags` and no GPU."""
    cpuinfo = folder / "cpuinfo"
    cpuinfo.write_text(f"model name\t: Test CPU\nflags\t\t: {flags}\n")
    monkeypatch.setattr(machine, "describe", lambda: DESCRIBE(
        cpuinfo, gpus=str(folder / "no-gpus/*")))


def test_bfloat16_is_no_candidate_where_the_cpu_emulates_it(measured,
                                                            monkeypatch,
                                                            tmp_path):
    fake_cpu(monkeypatch, tmp_path, "fpu avx2 fma")
    choice = choosing.choose_for_workload(WORKLOAD, epochs=10)
    assert choice.precision == "float32"
    bfloat16 = [r for r in choice.table if r.candidate == TORCH_BF16]
    assert bfloat16[0].note == choosing.NOT_A_CANDIDATE
    assert not bfloat16[0].measured


def test_bfloat16_is_a_candidate_where_the_cpu_has_it(measured, monkeypatch,
                                                      tmp_path):
    fake_cpu(monkeypatch, tmp_path, "fpu avx512f avx512_bf16")
    choice = choosing.choose_for_workload(WORKLOAD, epochs=10)
    assert (choice.backend, choice.precision) == ("torch", "mixed_bfloat16")
    assert choice.steps == 500  # 10 epochs of the workload's 50 steps


def test_the_cache_answers_until_the_config_a_version_or_the_method_changes(
        measured, monkeypatch):
    first = choosing.choose_for_workload(WORKLOAD)
    again = choosing.choose_for_workload(WORKLOAD, epochs=3)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert again.steps == 150 and len(measured) == 1
    other_model = {**WORKLOAD, "arguments": {"num_latents": 16}}
    assert not choosing.choose_for_workload(other_model).from_cache
    versions = machine.library_versions()
    monkeypatch.setattr(machine, "library_versions",
                        lambda: {**versions, "torch": "99.0"})
    assert not choosing.choose_for_workload(WORKLOAD).from_cache
    assert len(measured) == 3
    assert choosing.choose_for_workload(WORKLOAD, refresh=True)
    assert len(measured) == 4
    # A table measured by an earlier method is measured again.
    monkeypatch.setattr(measurement_cache, "MEASUREMENT_METHOD",
                        measurement_cache.MEASUREMENT_METHOD + 1)
    assert not choosing.choose_for_workload(WORKLOAD).from_cache


@pytest.mark.parametrize("damage", [
    "{not json",
    "[1, 2]",
    "rows",  # an entry whose row holds a string where seconds go
], ids=["not_json", "not_an_object", "bad_row"])
def test_a_damaged_cache_file_is_a_warning_and_a_new_measurement(
        measured, damage):
    first = choosing.choose_for_workload(WORKLOAD)
    path = measurement_cache.cache_path(machine.describe())
    if damage == "rows":
        entries = json.loads(path.read_text())
        for entry in entries.values():
            entry["rows"][0]["step_s"] = "fast"
        damage = json.dumps(entries)
    path.write_text(damage)
    with pytest.warns(UserWarning, match="is damaged"):
        again = choosing.choose_for_workload(WORKLOAD)
    assert not again.from_cache and again.backend == first.backend
    assert choosing.choose_for_workload(WORKLOAD).from_cache  # rewritten


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(measurement_cache.CACHE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert measurement_cache.cache_folder() == tmp_path / "keras-perceiver"
    monkeypatch.setenv(measurement_cache.CACHE_VARIABLE, str(tmp_path / "c"))
    assert measurement_cache.cache_folder() == tmp_path / "c"


def test_the_table_marks_the_choice_and_says_why_not(measured):
    choice = choosing.choose_for_workload(WORKLOAD, steps=100)
    lines = choice.table_text().splitlines()
    assert lines[0].split()[:2] == ["backend", "precision"]
    chosen = [line for line in lines if "<-" in line]
    assert len(chosen) == 1 and chosen[0].startswith(choice.backend)
    assert "predicted" in choice.reason() and "against" in choice.reason()
