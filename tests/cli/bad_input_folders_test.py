"""Bad input: output folders, lock files, data names, Ctrl-C and
--mixed-precision on a CPU that emulates bfloat16.

`train` and `tune` write only into folders that keras-perceiver created
(its marker file, `.keras-perceiver`), never through a `.lock` that is not
its own, and delete on `--restart` only what their records list. Each case
checks the refusal (one line, exit status 2, or a `ValueError`) and that
nothing outside the tool's files changed. The cases stop before training
(refusals, or a missing data file after the folder checks), so they run in
the test's process and take milliseconds; one trains (slow).
"""

import json
import os
import pathlib
import re

import pytest
from bad_input import assert_refused, assert_value_error, unchanged
from command_line import TINY_MODEL, run_in_process

from keras_perceiver import backend_differences
from keras_perceiver.training.run_checkpoint import RunCheckpoint
from keras_perceiver.training.run_directory import MARKER_NAME, RunDirectory

pytestmark = pytest.mark.backend_independent

TRAIN = ["train", "--dataset", "digits", "--epochs", "1", *TINY_MODEL]
# A source that is refused after the output folder is taken: the folder
# checks ran, and nothing trains.
MISSING_DATA = ["--data", "/nonexistent/data.csv"]


def own_folder(path):
    """A folder as keras-perceiver creates it (its marker file)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER_NAME).write_text("")
    return path


def write_files(folder, files):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def checkpoint_metadata(epoch, weights):
    """The metadata of a checkpoint as `RunCheckpoint` writes it."""
    return json.dumps({
        "epoch": epoch, "epochs": 2, "weights": weights,
        "weights_sha256": "0" * 64, "model": {}, "run_options": {},
        "history": [],
    })


# Lock files -----------------------------------------------------------

def symlink_to_target(lock, target):
    os.symlink(target, lock)


def symlink_to_missing_file(lock, target):
    os.symlink(target.with_name("missing"), lock)


def hard_link_to_target(lock, target):
    os.link(target, lock)


def file_of_notes(lock, target):
    lock.write_text("my notes, not a process id\n")


def folder(lock, target):
    lock.mkdir()


def named_pipe(lock, target):
    os.mkfifo(lock)


@pytest.mark.parametrize("make_lock", [
    symlink_to_target, symlink_to_missing_file, hard_link_to_target,
    file_of_notes, folder, named_pipe,
])
def test_a_lock_that_is_not_a_regular_file_holding_a_pid_is_refused(
        make_lock, tmp_path):
    run = own_folder(tmp_path / "run")
    target = tmp_path / "target.txt"
    target.write_text("someone's file\n")
    make_lock(run / ".lock", target)
    with unchanged(tmp_path):
        assert_value_error(RunDirectory(run).lock, "not a lock file",
                           "left as it is")


def test_train_refuses_a_symlinked_lock_in_one_line(tmp_path):
    run = own_folder(tmp_path / "run")
    target = tmp_path / "target.txt"
    target.write_text("someone's file\n")
    os.symlink(target, run / ".lock")
    with unchanged(tmp_path):
        assert_refused(run_in_process(*TRAIN, "--output-dir", run),
                       "not a lock file")


# Folders of other files -----------------------------------------------

FOREIGN_FOLDERS = {
    "history": {"history.csv": "step,loss\n1,0.5\n"},
    "model": {"model.keras": "someone's model"},
    "plots": {"training_curves.png": "png", "attention_maps.png": "png"},
    "temporary_file": {".tmp-123-model.keras": "half a file"},
    "epoch_files": {"checkpoints/epoch-0001.json": "{}",
                    "checkpoints/epoch-0001.weights.h5": "weights"},
    "metrics": {"metrics.json": '{"epochs": "ten"}'},
    "epoch_notes": {"checkpoints/epoch-notes.json": "[1, 2]"},
    "notes": {"notes.txt": "my notes"},
}


@pytest.mark.parametrize("files", FOREIGN_FOLDERS.values(),
                         ids=FOREIGN_FOLDERS.keys())
def test_train_refuses_a_folder_of_other_files_before_writing(files,
                                                              tmp_path):
    write_files(tmp_path, files)
    with unchanged(tmp_path):
        assert_refused(run_in_process(*TRAIN, "--output-dir", tmp_path),
                       "keras-perceiver did not write",
                       "--overwrite-output-dir")


@pytest.mark.parametrize("option", ["--restart", "--continue"])
def test_restart_and_continue_refuse_a_folder_of_other_files(option,
                                                             tmp_path):
    write_files(tmp_path, {**FOREIGN_FOLDERS["epoch_files"],
                           **FOREIGN_FOLDERS["model"]})
    with unchanged(tmp_path):
        assert_refused(
            run_in_process(*TRAIN, option, "--output-dir", tmp_path),
            "keras-perceiver did not write",
        )


def test_tune_refuses_a_folder_of_other_files(tmp_path):
    write_files(tmp_path, {"search/notes.txt": "mine", "best.json": "{}"})
    with unchanged(tmp_path):
        assert_refused(
            run_in_process("tune", "--dataset", "digits", "--output-dir",
                           tmp_path),
            "keras-perceiver did not write", "--overwrite-output-dir",
        )


@pytest.mark.parametrize("command, subfolder", [
    (TRAIN, "checkpoints"),
    (["tune", "--dataset", "digits"], "search"),
])
def test_overwrite_output_dir_refuses_another_tools_subfolder(
        command, subfolder, tmp_path):
    write_files(tmp_path, {f"{subfolder}/epoch-0001.json": "{}",
                           "notes.txt": "mine"})
    with unchanged(tmp_path):
        assert_refused(
            run_in_process(*command, "--overwrite-output-dir",
                           "--output-dir", tmp_path),
            f"{subfolder} was not written by keras-perceiver",
        )


def test_overwrite_output_dir_writes_beside_other_files(tmp_path):
    write_files(tmp_path, {"notes.txt": "mine", "data/a.csv": "x,label\n"})
    with unchanged(tmp_path / "notes.txt", tmp_path / "data"):
        result = run_in_process("train", *MISSING_DATA,
                                "--overwrite-output-dir", "--output-dir",
                                tmp_path)
        assert_refused(result, "does not exist")
    assert RunDirectory(tmp_path).owned()


def test_a_folder_with_checkpoints_of_an_earlier_release_is_this_tools(
        tmp_path):
    """Folders written before the marker file keep resuming: their
    checkpoints' metadata says they are this tool's."""
    write_files(tmp_path, {
        "checkpoints/epoch-0001.json": checkpoint_metadata(
            1, "epoch-0001.weights.h5"),
        "checkpoints/epoch-0001.weights.h5": "weights",
        "history.csv": "epoch\n0\n",
    })
    with unchanged(tmp_path / "checkpoints", tmp_path / "history.csv"):
        result = run_in_process("train", *MISSING_DATA, "--output-dir",
                                tmp_path)
        # Past the folder checks: the run's own options differ.
        assert_refused(result, "other options")
    assert RunDirectory(tmp_path).owned()


def test_restart_deletes_only_what_the_runs_records_list(tmp_path):
    own_folder(tmp_path)
    write_files(tmp_path, {
        "checkpoints/epoch-0001.json": checkpoint_metadata(
            1, "epoch-0001.weights.h5"),
        "checkpoints/epoch-0001.weights.h5": "weights",
        # Metadata naming a file outside its folder is not this tool's.
        "checkpoints/epoch-0002.json": checkpoint_metadata(2,
                                                           "../notes.txt"),
        "checkpoints/notes.txt": "mine",
        "model.keras": "the run's model",
        "notes.txt": "mine",
    })
    kept = [tmp_path / "notes.txt", tmp_path / "checkpoints" / "notes.txt",
            tmp_path / "checkpoints" / "epoch-0002.json"]
    with unchanged(*kept):
        result = run_in_process("train", *MISSING_DATA, "--restart",
                                "--output-dir", tmp_path)
        assert_refused(result, "does not exist")
    assert not (tmp_path / "model.keras").exists()
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()
                  ) == ["epoch-0002.json", "notes.txt"]


def test_restore_and_pruning_leave_other_names_in_checkpoints(tmp_path):
    """In a folder of this tool, names that are not its checkpoints' (a
    notes file, a `.tmp-` name of no write) are left alone."""
    import keras
    import numpy as np

    own_folder(tmp_path)
    strays = {"checkpoints/epoch-notes.json": "[1]",
              "checkpoints/.tmp-notes": "mine"}
    write_files(tmp_path, strays)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    checkpoint = RunCheckpoint(tmp_path / "checkpoints", keep=1)
    with unchanged(*(tmp_path / name for name in strays)):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=3, verbose=0,
                  callbacks=[checkpoint])
        checkpoint.remove()
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()
                  ) == [".tmp-notes", "epoch-notes.json"]


def test_a_finished_runs_damaged_metrics_are_no_traceback(tmp_path):
    own_folder(tmp_path)
    write_files(tmp_path, {"metrics.json": '{"epochs": "ten"}'})
    with unchanged(tmp_path / "metrics.json"):
        result = run_in_process("train", *MISSING_DATA, "--output-dir",
                                tmp_path)
        assert_refused(result, "does not exist")


# Default folder names ---------------------------------------------------

@pytest.mark.parametrize("source", [
    ["--data", "tfds:../../x"],
    ["--data", "tfds:/tmp/absolute"],
    ["--data", "tfds:.."],
    ["--data", "tfds:a/../../b"],
    ["--data", "tfds:name\nwith odd\tcharacters*?"],
    ["--dataset", "../../x"],
])
def test_data_names_make_one_folder_inside_runs(source, tmp_path,
                                                monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    write_files(tmp_path, {"outside/notes.txt": "mine"})
    monkeypatch.chdir(work)
    with unchanged(tmp_path / "outside"):
        assert run_in_process("train", *source).returncode == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "outside", "work"]
    assert [path.name for path in work.iterdir()] == ["runs"]
    (name,) = [path.name for path in (work / "runs").iterdir()]
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), name
    latest = work / "runs" / name / "latest"
    assert latest.resolve().parent == latest.parent.resolve()


def test_a_latest_that_is_not_a_link_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"runs/digits/latest": "someone's file"})
    with unchanged(tmp_path):
        assert_refused(run_in_process(*TRAIN), "latest",
                       "not a link that keras-perceiver made")


# Ctrl-C -----------------------------------------------------------------

def interrupt(*_, **__):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command, module, message", [
    (["train", *MISSING_DATA], "train",
     "interrupted; run the same command to resume"),
    (["tune", *MISSING_DATA], "tune",
     "interrupted; run the same command to resume the search (finished "
     "trials are kept)"),
])
def test_ctrl_c_is_one_line_and_exit_status_130(command, module, message,
                                                tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module(f"keras_perceiver.cli."
                                                f"{module}"),
                        "load_dataset", interrupt)
    result = run_in_process(*command, "--output-dir", tmp_path)
    assert result.returncode == 130
    assert result.stderr.splitlines() == [f"keras-perceiver: {message}"]


def test_ctrl_c_in_a_folder_of_its_own_names_that_folder(tmp_path,
                                                        monkeypatch):
    from keras_perceiver.cli import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train, "load_dataset", interrupt)
    result = run_in_process("train", *MISSING_DATA)
    assert result.returncode == 130
    (folder,) = [path for path in (tmp_path / "runs" / "data").iterdir()
                 if not path.is_symlink()]
    assert result.stderr.splitlines() == [
        "keras-perceiver: interrupted; run the same command with "
        f"--output-dir {pathlib.Path('runs') / 'data' / folder.name} to "
        "resume"]


@pytest.mark.parametrize("command", [
    ["evaluate", "model.keras", "--data", "x"], ["predict", "model.keras", "x"],
    ["export", "model.keras", "x"]], ids=["evaluate", "predict", "export"])
def test_ctrl_c_in_any_command_is_one_line(command, monkeypatch):
    import importlib

    monkeypatch.setattr(
        importlib.import_module(f"keras_perceiver.cli.{command[0]}"), "run",
        interrupt)
    result = run_in_process(*command)
    assert result.returncode == 130
    assert result.stderr.splitlines() == ["keras-perceiver: interrupted"]


@pytest.mark.slow
def test_a_run_stopped_by_ctrl_c_after_an_epoch_resumes(tmp_path,
                                                       monkeypatch):
    """Also: a folder of an earlier release (no marker) resumes."""
    on_epoch_end = RunCheckpoint.on_epoch_end

    def end_epoch_then_interrupt(self, epoch, logs=None):
        on_epoch_end(self, epoch, logs)
        raise KeyboardInterrupt

    # Stopped as the last epoch ends: the resumed run only writes results.
    arguments = ["train", "--dataset", "digits", "--epochs", "1",
                 "--batch-size", "128", "--validation-split", "0",
                 "--output-dir", tmp_path, *TINY_MODEL]
    with monkeypatch.context() as patch:
        patch.setattr(RunCheckpoint, "on_epoch_end", end_epoch_then_interrupt)
        result = run_in_process(*arguments)
    assert result.returncode == 130
    assert result.stderr.splitlines()[-1] == (
        "keras-perceiver: interrupted after epoch 1; run the same command "
        "to resume"
    )
    assert "Traceback" not in result.stderr
    (tmp_path / MARKER_NAME).unlink()  # as an earlier release left it
    result = run_in_process(*arguments)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Resuming after epoch 1" in result.stdout
    assert (tmp_path / "metrics.json").is_file()


# --mixed-precision on a CPU without native bfloat16 ---------------------

@pytest.mark.parametrize("slow", [True, False])
def test_mixed_precision_warns_once_where_bfloat16_is_emulated(
        slow, tmp_path, monkeypatch):
    monkeypatch.setattr(backend_differences, "mixed_bfloat16_is_slow",
                        lambda: slow)
    result = run_in_process("train", *MISSING_DATA, "--mixed-precision",
                            "--output-dir", tmp_path)
    assert_refused(result, "does not exist")
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith("keras-perceiver: warning:")]
    if slow:
        assert len(warnings) == 1, result.stderr
        assert "float32, the faster choice" in warnings[0]
    else:
        assert warnings == []


@pytest.mark.parametrize("kind", ["pipe", "link_to_dev_zero"])
def test_checkpoints_of_another_tool_are_not_read_blindly(tmp_path, kind):
    """Telling an earlier release's folder from another tool's reads
    checkpoints/epoch-*.json only as small regular files: a named pipe
    would hang the command, a link to /dev/zero fill its memory."""
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    if kind == "pipe":
        os.mkfifo(checkpoints / "epoch-0001.json")
    else:
        os.symlink("/dev/zero", checkpoints / "epoch-0001.json")
    with unchanged(tmp_path):
        assert_refused(run_in_process("train", *MISSING_DATA,
                                      "--output-dir", tmp_path),
                       "did not write")
