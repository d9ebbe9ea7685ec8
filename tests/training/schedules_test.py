import keras
import pytest

from keras_perceiver.training.schedules import warmup_cosine_decay


def learning_rates(schedule, steps):
    return [float(keras.ops.convert_to_numpy(schedule(step)))
            for step in steps]


def test_warms_up_linearly_then_decays_to_zero():
    schedule = warmup_cosine_decay(1e-3, total_steps=200)  # 10 warm-up
    start, mid_warmup, peak, middle, end = learning_rates(
        schedule, [0, 5, 10, 105, 200])
    assert start == 0.0
    assert mid_warmup == pytest.approx(5e-4, rel=1e-4)
    assert peak == pytest.approx(1e-3, rel=1e-4)
    assert middle == pytest.approx(5e-4, rel=1e-3)  # half-way down
    assert end == pytest.approx(0.0, abs=1e-9)


def test_drives_an_optimizer_and_survives_a_keras_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.AdamW(warmup_cosine_decay(1e-2, 50)),
                  "mse")
    model.fit(keras.ops.ones((4, 2)), keras.ops.zeros((4, 1)), epochs=2,
              verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert int(restored.optimizer.iterations) == 2
    assert float(restored.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate))


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(total_steps=0), "total_steps"),
     (dict(total_steps=10, warmup_fraction=1.0), "warmup_fraction")],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        warmup_cosine_decay(1e-3, **kwargs)
