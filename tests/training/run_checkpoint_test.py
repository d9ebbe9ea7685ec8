"""RunCheckpoint: crash-safe checkpoints, fall-backs and refusals."""

import csv
import json

import keras
import numpy as np
import pytest

from keras_perceiver.training.run_checkpoint import RunCheckpoint

X = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
Y = X.sum(axis=1, keepdims=True)


def small_model(units=1):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return model


class StopAtEpoch(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the start of an epoch, like a kill."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def checkpoint_in(tmp_path, **options):
    return RunCheckpoint(tmp_path / "checkpoints",
                         run_options=options or {"learning_rate": 0.01},
                         history_path=tmp_path / "history.csv")


def interrupted_run(tmp_path, stop_at=3):
    model = small_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=5, verbose=0,
                  callbacks=[checkpoint_in(tmp_path), StopAtEpoch(stop_at)])
    return model


def logged_epochs(tmp_path):
    with open(tmp_path / "history.csv", newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_a_resumed_run_trains_only_the_missing_epochs_and_logs_each_once(
        tmp_path):
    interrupted = interrupted_run(tmp_path)
    model = small_model()
    checkpoint = checkpoint_in(tmp_path)
    history = model.fit(X, Y, epochs=5, verbose=0, callbacks=[checkpoint])
    assert len(history.history["loss"]) == 2  # epochs 4 and 5
    assert logged_epochs(tmp_path) == [0, 1, 2, 3, 4]
    assert checkpoint.finished_epochs == 5
    # The optimizer's state came back too.
    assert int(model.optimizer.iterations) == 5 * 1
    assert int(interrupted.optimizer.iterations) == 3
    # Two checkpoints are kept, the newest last.
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["epoch-0004.json", "epoch-0004.weights.h5",
                     "epoch-0005.json", "epoch-0005.weights.h5"]


def test_restore_gives_the_saved_weights(tmp_path):
    interrupted = interrupted_run(tmp_path)
    model = small_model()
    assert checkpoint_in(tmp_path).restore(model) == 3
    for saved, restored in zip(interrupted.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))


@pytest.mark.parametrize("damage", ["truncated weights", "missing weights",
                                    "empty metadata"])
def test_a_damaged_newest_checkpoint_falls_back_with_a_warning(tmp_path,
                                                               damage):
    interrupted_run(tmp_path)
    newest = tmp_path / "checkpoints" / "epoch-0003"
    weights = newest.with_name(newest.name + ".weights.h5")
    if damage == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "missing weights":
        weights.unlink()
    else:
        newest.with_suffix(".json").write_text("")
    with pytest.warns(UserWarning, match="epoch 2 .*epoch 3 is damaged"):
        assert checkpoint_in(tmp_path).restore(small_model()) == 2
    assert logged_epochs(tmp_path) == [0, 1]


def test_no_usable_checkpoint_is_an_error_not_fresh_weights(tmp_path):
    interrupted_run(tmp_path)
    for weights in (tmp_path / "checkpoints").glob("*.weights.h5"):
        weights.unlink()
    with pytest.raises(ValueError, match="No usable checkpoint.*missing"):
        checkpoint_in(tmp_path).restore(small_model())


def test_checkpoints_of_other_options_or_another_model_are_refused(tmp_path):
    interrupted_run(tmp_path)
    with pytest.raises(ValueError,
                       match="other options .learning_rate: 0.01 there, "
                             "0.1 now"):
        checkpoint_in(tmp_path, learning_rate=0.1).restore(small_model())
    with pytest.raises(ValueError, match="another model .*units: 1 there, "
                                         "2 now"):
        checkpoint_in(tmp_path).restore(small_model(units=2))


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(
        tmp_path):
    class PoisonAtEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                for weight in self.model.trainable_weights:
                    weight.assign(np.full(weight.shape, np.nan, "float32"))

    model = small_model()
    with pytest.raises(FloatingPointError,
                       match="loss became nan in epoch 3.*epoch 2 .* kept"):
        model.fit(X, Y, epochs=5, verbose=0,
                  callbacks=[PoisonAtEpoch(), checkpoint_in(tmp_path)])
    assert checkpoint_in(tmp_path).latest_metadata()["epoch"] == 2
    metadata = (tmp_path / "checkpoints" / "epoch-0002.json").read_text()
    json.loads(metadata)  # valid JSON: no NaN in it


def test_keep_must_be_a_positive_integer(tmp_path):
    with pytest.raises(ValueError, match="keep"):
        RunCheckpoint(tmp_path, keep=0)
