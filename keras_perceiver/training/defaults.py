"""The training defaults and the names of the searchable hyperparameters,
without Keras: the command line's help shows them before any library
loads. `keras_perceiver.training` and `keras_perceiver.tuning` use them."""

SCHEDULES = ("cosine", "constant")
"""The learning-rate schedules `learning_rate_schedule` knows."""
LEARNING_RATE = 1e-3
"""The default peak learning rate of AdamW."""
WEIGHT_DECAY = 1e-4
"""The default weight decay of AdamW."""
GRADIENT_CLIP_NORM = 1.0
"""The norm each gradient is clipped to (AdamW's `clipnorm`)."""

# The hyperparameters a search may vary: the Perceiver's sizes (integers)
# and AdamW's (floats). `keras_perceiver.tuning.PerceiverHyperModel` and
# `keras-perceiver tune` name them so.
MODEL_HYPERPARAMETERS = (
    "num_latents",
    "num_self_attends_per_block",
    "latent_dim",
    "num_blocks",
    "num_cross_heads",
    "num_self_heads",
)
OPTIMIZER_HYPERPARAMETERS = ("learning_rate", "weight_decay")
