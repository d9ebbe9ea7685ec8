"""RunDirectory: one live run per output directory; fresh default ones."""

import os

import pytest

from keras_perceiver.training.atomic_files import atomic_path, write_text_atomically
from keras_perceiver.training.run_directory import RunDirectory


def test_a_held_directory_is_refused_to_a_second_holder(tmp_path):
    with RunDirectory(tmp_path / "run"):
        with pytest.raises(ValueError,
                           match=f"in use by another run .process "
                                 f"{os.getpid()}"):
            RunDirectory(tmp_path / "run").lock()
    # Released: the next run takes it without a warning.
    RunDirectory(tmp_path / "run").lock().release()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_warning(
        tmp_path):
    (tmp_path / ".keras-perceiver").write_text("")  # a folder of this tool
    (tmp_path / ".lock").write_text("999999999\n")  # no such process holds it
    with pytest.warns(UserWarning, match="process 999999999.*ended"):
        RunDirectory(tmp_path).lock().release()


def test_each_new_run_gets_its_own_directory_and_latest_names_it(tmp_path):
    first = RunDirectory.new(tmp_path / "runs")
    second = RunDirectory.new(tmp_path / "runs")
    assert first.path != second.path
    assert first.path.is_dir() and second.path.is_dir()
    latest = tmp_path / "runs" / "latest"
    assert latest.resolve() == second.path.resolve()


def test_a_directory_that_cannot_be_written_is_a_value_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="Cannot create the output dir"):
        RunDirectory(blocker / "run").lock()


def test_an_interrupted_atomic_write_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "metrics.json"
    write_text_atomically(path, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
