"""Predictions as CSV (`keras_perceiver.reports.prediction_tables`)."""

import csv

import numpy as np
import pytest

from keras_perceiver.reports.prediction_tables import (
    write_predictions,
    write_top_classes,
)

pytestmark = pytest.mark.backend_independent


def rows(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def test_a_row_per_example_with_its_class_and_probabilities(tmp_path):
    write_predictions(tmp_path / "p.csv", np.array([[0.25, 0.75]]))
    assert rows(tmp_path / "p.csv") == [
        ["example", "predicted_class", "p0", "p1"],
        ["0", "1", "0.250000", "0.750000"]]


def test_a_row_per_file_with_its_top_classes(tmp_path):
    write_top_classes(tmp_path / "t.csv", ["cat.png"],
                      [[("cat", 0.9), ("dog", 0.1)]])
    assert rows(tmp_path / "t.csv") == [
        ["file", "class_1", "probability_1", "class_2", "probability_2"],
        ["cat.png", "cat", "0.900000", "dog", "0.100000"]]
