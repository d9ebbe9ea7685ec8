"""The long run's projection of `benchmarks.auto_choice`."""

import pytest

from benchmarks.auto_choice import projected_seconds, render_long_run

pytestmark = pytest.mark.backend_independent


def test_a_run_is_projected_by_its_steady_epoch():
    # 20 epochs in 50 s; the first compiled (9 s), the others take 2 s
    # but one (5 s): the median ignores both.
    record = {"wall_s": 50.0, "epochs": 20,
              "epoch_seconds": [9.0, 5.0] + [2.0] * 18}
    assert projected_seconds(record, 20) == 50.0
    assert projected_seconds(record, 700) == 50.0 + 680 * 2.0
    # One epoch: it is the only measure of an epoch there is.
    single = {"wall_s": 12.0, "epochs": 1, "epoch_seconds": [4.0]}
    assert projected_seconds(single, 3) == 12.0 + 2 * 4.0


def test_the_long_run_is_set_against_every_finished_fixed_choice():
    fast = {"name": "torch, eager", "wall_s": 50.0, "epochs": 20,
            "epoch_seconds": [9.0] + [2.0] * 19}
    slow = {"name": "jax, jit", "wall_s": 40.0, "epochs": 20,
            "epoch_seconds": [9.0] + [3.0] * 19}
    stopped = {"name": "torch, torch.compile", "wall_s": 240.0, "epochs": 20,
               "error": "stopped after 240 s"}
    results = {"epochs": 20, "runs": [{}, {}, slow, stopped, fast],
               "long_run": {"epochs": 120, "wall_s": 270.4,
                            "test_accuracy": 0.95,
                            "auto": "auto: torch, eager"}}
    text = render_long_run(results)
    assert "`--epochs 120`" in text and "auto: torch, eager" in text
    lines = text.splitlines()
    measured = lines.index("| auto, empty cache (measured) | 270 | 0.950 |")
    # Sorted by projection: 50 + 100 * 2 = 250 s, then 40 + 100 * 3.
    assert lines[measured + 1:measured + 3] == [
        "| torch, eager (projected) | 250 |  |",
        "| jax, jit (projected) | 340 |  |"]
    assert "torch.compile" not in text
