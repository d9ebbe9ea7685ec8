"""The initializer of the Perceiver's learned arrays, unless one is given."""

import keras


def initializer_or_default(initializer):
    """Returns `initializer` as a Keras initializer, or the default.

    The default is DeepMind's for learned embeddings and queries: a
    truncated normal with standard deviation 0.02.

    Args:
        initializer: a Keras initializer, its name or its config, or None
            for the default.
    """
    return keras.initializers.get(
        initializer or keras.initializers.TruncatedNormal(stddev=0.02)
    )
