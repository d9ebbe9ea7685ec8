"""Learning-rate schedules for training Perceivers."""

import keras

WARMUP_FRACTION = 0.05


def warmup_cosine_decay(peak_learning_rate, total_steps,
                        warmup_fraction=WARMUP_FRACTION):
    """Linear warm-up to `peak_learning_rate`, then cosine decay to zero.

    A Keras `CosineDecay` schedule: the learning rate rises linearly from 0
    over the first `warmup_fraction` of the steps (at least one), then
    follows a half cosine down to 0 at `total_steps`. The warm-up keeps the
    first attention updates small; the decay settles the weights at the end
    of a short run.

    Args:
        peak_learning_rate: float. Learning rate at the end of warm-up.
        total_steps: int. Optimizer steps of the whole run.
        warmup_fraction: float in [0, 1). Share of the steps spent warming
            up. Defaults to 0.05.

    Returns:
        A `keras.optimizers.schedules.CosineDecay`.

    Example:

    >>> schedule = warmup_cosine_decay(1e-3, total_steps=1000)
    >>> optimizer = keras.optimizers.AdamW(schedule)
    """
    if total_steps < 1:
        raise ValueError(
            f"`total_steps` must be a positive integer. "
            f"Received: total_steps={total_steps}"
        )
    if not 0.0 <= warmup_fraction < 1.0:
        raise ValueError(
            f"`warmup_fraction` must be in [0, 1). "
            f"Received: warmup_fraction={warmup_fraction}"
        )
    warmup_steps = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, total_steps - warmup_steps),
        warmup_target=peak_learning_rate,
        warmup_steps=warmup_steps,
    )
