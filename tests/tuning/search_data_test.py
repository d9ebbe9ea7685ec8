"""The examples a search trains and selects on (`tuning.search_data`)."""

import types
import warnings

import numpy as np
import pytest

pytest.importorskip("keras_tuner")

from bad_input import assert_value_error  # noqa: E402
from keras_perceiver.tuning import search_data  # noqa: E402

pytestmark = pytest.mark.backend_independent
DATA = types.SimpleNamespace(x_train=np.zeros((40, 3)),
                             y_train=np.arange(40))


def test_too_few_examples_held_out_warn():
    with pytest.warns(UserWarning, match="only 1 validation examples"):
        (_, y_train), (_, y_val) = search_data(DATA, 0.1, 2)
    assert len(y_train) == 1 and len(y_val) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search_data(DATA, 0.25)  # 10 held out: no warning


def test_a_sample_is_drawn_with_the_seed():
    (_, y_a), (_, val_a) = search_data(DATA, 0.5, 20, seed=1)
    (_, y_b), (_, val_b) = search_data(DATA, 0.5, 20, seed=1)
    assert len(y_a) + len(val_a) == 20
    np.testing.assert_array_equal(np.concatenate([y_a, val_a]),
                                  np.concatenate([y_b, val_b]))


def test_a_split_that_leaves_nothing_to_train_on_is_a_value_error():
    assert_value_error(lambda: search_data(DATA, 0.9, 1), "validation_split",
                       "leaves none to train on")
