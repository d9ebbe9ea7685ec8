"""A KerasTuner search that a kill neither damages nor shortens
(`keras_perceiver.tuning.crash_safety`): KerasTuner's oracles and state
files, driven directly; no model trains."""

import os

import keras
import pytest

keras_tuner = pytest.importorskip("keras_tuner")

from bad_input import assert_value_error  # noqa: E402
from keras_perceiver.tuning import crash_safe_tuner  # noqa: E402
from keras_perceiver.tuning import resume_interrupted_trials  # noqa: E402
from keras_perceiver.tuning import state_written_atomically  # noqa: E402

pytestmark = pytest.mark.backend_independent


def build_model(hp):
    """A model as small as can be, over the space of `oracle_in`."""
    return keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(hp.Choice("num_latents", [4, 8, 16])),
    ])


def tuner_in(directory):
    """The random search of `oracle_in`, as a tuner that resumes."""
    return keras_tuner.RandomSearch(
        build_model, objective="val_loss", max_trials=3, seed=1,
        directory=str(directory), project_name="search",
    )


def oracle_in(directory):
    """A random-search oracle over N in {4, 8, 16}, reloaded from
    `directory` as a resumed tuner reloads it."""
    space = keras_tuner.HyperParameters()
    space.Choice("num_latents", [4, 8, 16])
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective="val_loss", max_trials=3, hyperparameters=space, seed=1
    )
    oracle._set_project_dir(str(directory), "search")
    if (directory / "search" / "oracle.json").exists():
        oracle.reload()
    return oracle


def finish(oracle, trial):
    oracle.update_trial(trial.trial_id, {"val_loss": 1.0})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def killed_after_the_trial_file(directory):
    """A search killed after trial.json of its second trial was written and
    before oracle.json was; returns that trial."""
    oracle = oracle_in(directory)
    finish(oracle, oracle.create_trial("tuner0"))
    oracle_file = directory / "search" / "oracle.json"
    before_the_second_trial = oracle_file.read_text()
    interrupted = oracle.create_trial("tuner0")
    oracle_file.write_text(before_the_second_trial)  # killed here
    return interrupted


def test_a_kill_between_the_trial_and_oracle_files_loses_no_trial(tmp_path):
    """KerasTuner writes trial.json, then oracle.json: a kill between them
    left a trial running in its file that the oracle never ran again."""
    with state_written_atomically():
        reference = oracle_in(tmp_path / "reference")
        values = []
        for _ in range(3):
            trial = reference.create_trial("tuner0")
            values.append(trial.hyperparameters.values)
            finish(reference, trial)

        interrupted = killed_after_the_trial_file(tmp_path / "killed")
        oracle = oracle_in(tmp_path / "killed")
        resume_interrupted_trials(oracle)
        resumed = oracle.create_trial("tuner0")
        assert resumed.trial_id == interrupted.trial_id
        assert resumed.hyperparameters.values == values[1]
        finish(oracle, resumed)
        last = oracle.create_trial("tuner0")
        assert last.hyperparameters.values == values[2]
        finish(oracle, last)
        assert oracle.create_trial("tuner0").status == "STOPPED"


def test_a_kill_between_a_finished_trial_and_the_oracle_does_not_rerun_it(
        tmp_path):
    with state_written_atomically():
        oracle = oracle_in(tmp_path)
        trial = oracle.create_trial("tuner0")
        oracle_file = tmp_path / "search" / "oracle.json"
        while_running = oracle_file.read_text()
        finish(oracle, trial)
        oracle_file.write_text(while_running)  # killed here

        oracle = oracle_in(tmp_path)
        resume_interrupted_trials(oracle)
        assert oracle.create_trial("tuner0").trial_id != trial.trial_id


def test_a_crash_safe_tuner_runs_the_interrupted_trial_first(tmp_path):
    tuner_in(tmp_path).save()  # a search started by a tuner
    interrupted = killed_after_the_trial_file(tmp_path)
    with crash_safe_tuner(lambda: tuner_in(tmp_path)) as tuner:
        resumed = tuner.oracle.create_trial("tuner0")
    assert resumed.trial_id == interrupted.trial_id


def test_state_files_are_replaced_whole_inside_the_block_only(tmp_path):
    """Inside the block a state file is written to a new file renamed over
    the old (a kill leaves one or the other), outside it in place again."""
    oracle = oracle_in(tmp_path)
    oracle.save()
    oracle_file = tmp_path / "search" / "oracle.json"
    with state_written_atomically():
        before = os.stat(oracle_file).st_ino
        oracle.save()
        assert os.stat(oracle_file).st_ino != before
    before = os.stat(oracle_file).st_ino
    oracle.save()
    assert os.stat(oracle_file).st_ino == before


def test_a_damaged_state_file_is_a_value_error(tmp_path):
    tuner_in(tmp_path).save()
    (tmp_path / "search" / "oracle.json").write_text("")  # an old kill's

    def resume():
        with crash_safe_tuner(lambda: tuner_in(tmp_path)):
            pass

    assert_value_error(resume, "state file of the search is damaged",
                       "overwrite")
