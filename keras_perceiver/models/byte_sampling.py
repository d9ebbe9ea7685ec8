"""Choosing the next byte from a causal language model's logits."""

import numpy as np

from keras_perceiver import argument_checks
from keras_perceiver.preprocessing.byte_tokenizer import ByteTokenizer

SAMPLERS = ("greedy", "top_k", "top_p")


def check_sampling(sampler, temperature, top_k, top_p):
    """Checks the sampling arguments of `PerceiverCausalLM.generate`.

    Args:
        sampler: str. One of "greedy", "top_k" and "top_p".
        temperature: positive number dividing the logits.
        top_k: positive int. The number of likeliest bytes "top_k" draws
            from.
        top_p: number in (0, 1]. The probability mass "top_p" draws from.

    Returns:
        The arguments, checked, as a dict for `next_token`.

    Raises:
        ValueError: naming the argument and the value received.
    """
    argument_checks.check_choice("sampler", sampler, SAMPLERS)
    if not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0:
        raise ValueError(
            f"`top_p` must be a number in (0, 1]. Received: top_p={top_p!r}"
        )
    return dict(
        sampler=sampler,
        temperature=argument_checks.check_positive_number(
            "temperature", temperature
        ),
        top_k=argument_checks.check_positive_int("top_k", top_k),
        top_p=float(top_p),
    )


def next_token(logits, rng, sampler, temperature, top_k, top_p):
    """The next token id, a byte's (the special tokens are never chosen).

    "greedy" takes the likeliest byte; "top_k" draws from the `top_k`
    likeliest, "top_p" from the fewest likeliest whose probabilities sum
    to at least `top_p` (nucleus sampling), each with the probabilities of
    `softmax(logits / temperature)` renormalized over the bytes kept, as
    keras-hub's `TopKSampler` and `TopPSampler` do. The draw is NumPy's,
    from `rng`, so that a seed gives the same bytes on every backend.

    Args:
        logits: NumPy array `(vocabulary_size,)`, over `ByteTokenizer` ids.
        rng: `numpy.random.Generator`.
        sampler, temperature, top_k, top_p: as `check_sampling` returns
            them.

    Returns:
        An int, a token id of a byte (6 to 261).

    Example:

    >>> logits = np.zeros(262); logits[110] = 5.0
    >>> next_token(logits, np.random.default_rng(0), "greedy", 1.0, 1, 1.0)
    110
    """
    logits = np.asarray(logits, dtype="float64").copy()
    logits[: ByteTokenizer.num_special_tokens] = -np.inf
    if sampler == "greedy":
        return int(np.argmax(logits))
    probabilities = np.exp((logits - logits.max()) / temperature)
    order = np.argsort(-probabilities, kind="stable")
    if sampler == "top_k":
        kept = order[:top_k]
    else:
        mass = np.cumsum(probabilities[order]) / probabilities.sum()
        kept = order[: int(np.searchsorted(mass, top_p)) + 1]
    chosen = probabilities[kept] / probabilities[kept].sum()
    return int(kept[rng.choice(len(kept), p=chosen)])
