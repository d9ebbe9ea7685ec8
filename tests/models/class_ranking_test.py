"""A classifier's probabilities and most probable classes
(`keras_perceiver.models.class_ranking`)."""

import keras
import numpy as np
import pytest

from bad_input import assert_value_error
from keras_perceiver.models.class_ranking import (
    class_names_of,
    class_probabilities,
    top_classes,
)


def logits_model(num_classes=3):
    """Logits that are the inputs themselves."""
    return keras.Sequential([keras.Input((num_classes,)),
                             keras.layers.Identity()])


def test_top_classes_are_most_probable_first_ties_in_class_order():
    probabilities = np.array([[0.1, 0.6, 0.3], [0.4, 0.2, 0.4]])
    assert top_classes(probabilities, ["a", "b", "c"], 2) == [
        [("b", 0.6), ("c", 0.3)], [("a", 0.4), ("c", 0.4)]]
    assert len(top_classes(probabilities, ["a", "b", "c"], 9)[0]) == 3


def test_class_names_fall_back_to_numbers():
    model = logits_model()
    assert class_names_of(model, 3) == ["0", "1", "2"]
    model.class_names = ["x", "y", "z"]
    assert class_names_of(model, 3) == ["x", "y", "z"]


def test_probabilities_are_the_softmax_of_the_logits():
    logits = np.array([[0.0, 1.0, 2.0]], dtype="float32")
    probabilities = class_probabilities(logits_model(), logits, batch_size=1)
    expected = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predictions_that_are_not_finite_are_a_value_error(bad):
    logits = np.array([[0.0, 1.0, 2.0], [0.0, bad, 1.0]], dtype="float32")
    assert_value_error(lambda: class_probabilities(logits_model(), logits),
                       "example 1", "not finite")
