"""keras_perceiver.training: the one recipe of train, tune, evaluate, the
hyper model and the examples."""

import keras
import numpy as np
import pytest

from keras_perceiver import backend_differences
from keras_perceiver import training
from keras_perceiver.datasets import splits
from keras_perceiver.datasets.dataset import Dataset
from keras_perceiver.models import perceiver_for_dataset

independent = pytest.mark.backend_independent


def tiny_dataset(num_train=12, num_test=4):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(num_train + num_test, 4, 4, 1))
    labels = np.arange(num_train + num_test) % 2
    return Dataset(
        name="tiny", x_train=images[:num_train], y_train=labels[:num_train],
        x_test=images[num_train:], y_test=labels[num_train:],
        class_names=["even", "odd"], modality="image",
    )


def tiny_model(data):
    return perceiver_for_dataset(
        data, num_bands=2, num_latents=4, latent_dim=8, num_blocks=1,
        num_self_attends_per_block=1, num_self_heads=2,
    )


@independent
def test_the_last_examples_are_held_out_as_keras_holds_them_out():
    x = {"inputs": np.arange(10.0)[:, None], "mask": np.ones((10, 1), bool)}
    (x_fit, y_fit), (x_val, y_val) = splits.split_validation(
        x, np.arange(10), 0.25
    )
    # Keras' fit(validation_split=0.25) fits floor(10 * 0.75) = 7 examples.
    assert splits.num_fitted_examples(10, 0.25) == 7
    np.testing.assert_array_equal(y_fit, np.arange(7))
    np.testing.assert_array_equal(y_val, [7, 8, 9])
    np.testing.assert_array_equal(x_val["inputs"][:, 0], [7.0, 8.0, 9.0])
    assert x_fit["mask"].shape == (7, 1)
    assert splits.split_validation(x, np.arange(10), 0.0)[1] is None


@independent
@pytest.mark.parametrize("num_examples, split", [(1, 0.5), (3, 1e-17)])
def test_a_split_without_examples_on_either_side_raises(num_examples,
                                                        split):
    with pytest.raises(ValueError, match="validation_split"):
        splits.split_validation(np.zeros((num_examples, 2)),
                                  np.arange(num_examples), split)


@independent
def test_shuffled_examples_keep_inputs_and_labels_together():
    labels = np.arange(20)
    x, y = splits.shuffled_examples(labels * 10, labels, 5, seed=1)
    np.testing.assert_array_equal(x, y * 10)
    assert len(y) == 5 and sorted(y) != list(range(5))
    again = splits.shuffled_examples(labels * 10, labels, 5, seed=1)[1]
    np.testing.assert_array_equal(again, y)
    assert len(splits.shuffled_examples(labels, labels)[1]) == 20


@independent
def test_learning_rate_schedules():
    assert training.learning_rate_schedule(3e-4, 100, "constant") == 3e-4
    cosine = training.learning_rate_schedule(1e-3, 100)
    assert float(cosine(5)) == pytest.approx(1e-3)  # warm-up: 5 % of 100
    assert float(cosine(100)) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="schedule"):
        training.learning_rate_schedule(1e-3, 100, "linear")
    assert training.steps_per_epoch(1000, 64, 0.1) == 15
    assert training.steps_per_epoch(1000, 64) == 16


def test_compile_for_classification_passes_jit_compile_to_keras():
    model = tiny_model(tiny_dataset())
    training.compile_for_classification(model, jit_compile=False)
    assert model.jit_compile is False
    training.compile_for_classification(model, jit_compile=True)
    # On torch the repeated blocks are compiled and the step runs eagerly
    # (tests/training/regional_compile_test.py).
    blocks = backend_differences.current().compiles_repeated_blocks
    assert model.jit_compile is not blocks


def test_compile_fit_and_evaluate_a_classifier():
    data = tiny_dataset()
    model = tiny_model(data)
    training.compile_for_classification(model, 1e-3, weight_decay=0.01)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert model.optimizer.clipnorm == 1.0
    assert model.optimizer.weight_decay == 0.01
    history = model.fit(**data.fit_data(4, validation_split=0.25),
                        epochs=1, verbose=0)
    assert len(history.history["val_loss"]) == 1
    loss, accuracy = training.evaluate(model, data, batch_size=4)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    reloaded = training.compile_for_evaluation(tiny_model(data))
    reloaded.set_weights(model.get_weights())
    assert training.evaluate(reloaded, data, 4) == pytest.approx(
        (loss, accuracy), rel=1e-5)
