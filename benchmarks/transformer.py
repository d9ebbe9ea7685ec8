"""The plain Transformer encoder the scaling benchmark compares against."""

import keras


def transformer_classifier(input_channels, num_classes, width, num_layers,
                           num_heads):
    """A pre-LayerNorm Transformer encoder over all M inputs, and a classifier.

    Every input element is projected to `width` channels; each of the
    `num_layers` layers is `x + MultiHeadAttention(LN(x))` followed by
    `x + MLP(LN(x))` with an MLP of widening factor 1 (as in the Perceiver);
    the outputs are averaged over the M elements and a linear layer gives
    the logits. Self-attention over the inputs costs O(M^2) per layer.
    """
    inputs = keras.Input((None, input_channels))
    x = keras.layers.Dense(width, name="embed")(inputs)
    for index in range(num_layers):
        normed = keras.layers.LayerNormalization(epsilon=1e-5)(x)
        x = x + keras.layers.MultiHeadAttention(
            num_heads, key_dim=width // num_heads, name=f"attention_{index}"
        )(normed, normed)
        normed = keras.layers.LayerNormalization(epsilon=1e-5)(x)
        hidden = keras.layers.Dense(width, activation="gelu")(normed)
        x = x + keras.layers.Dense(width)(hidden)
    pooled = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(pooled))
