"""The training defaults, without Keras: the command line's help shows them
before any library loads. `keras_perceiver.training` uses them."""

SCHEDULES = ("cosine", "constant")
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
GRADIENT_CLIP_NORM = 1.0
