import keras
import numpy as np
from keras import ops

from keras_perceiver import argument_checks
from keras_perceiver.layers.causal_mask import causal_mask
from keras_perceiver.layers.chunked_attention import maps_averaged_over_heads
from keras_perceiver.layers.cross_attention import CrossAttention
from keras_perceiver.layers.latent_transformer import LatentTransformer
from keras_perceiver.layers.perceiver_attention import AUTO_CHUNK_SIZE
from keras_perceiver.models.byte_sampling import check_sampling
from keras_perceiver.models.byte_sampling import next_token
from keras_perceiver.models.compiled_inference import compile_inference
from keras_perceiver.preprocessing.byte_tokenizer import ByteTokenizer

# What fills the positions after the real ones in a generation step that
# runs a whole sequence (the causal masks hide it): the byte of a space.
FILLER_ID = ord(" ") + ByteTokenizer.num_special_tokens


class GenerationPlan:
    """The sizes of one `generate` call.

    Args:
        prompt_length: int. The prompt's bytes P.
        max_new_tokens: int. The bytes to generate.
        num_latents: int. The model's latents N.

    Attributes:
        length: the final sequence length, P + max_new_tokens.
        num_prompt_latents: the prompt's latents, min(N, P).
        latent_capacity: the most latents, num_prompt_latents +
            max_new_tokens (every new byte joins the latents).
        first_latent_position: the position of the first latent.
    """

    def __init__(self, prompt_length, max_new_tokens, num_latents):
        self.length = prompt_length + max_new_tokens
        self.num_prompt_latents = min(num_latents, prompt_length)
        self.latent_capacity = self.num_prompt_latents + max_new_tokens
        self.first_latent_position = prompt_length - self.num_prompt_latents


@keras.saving.register_keras_serializable(package="keras_perceiver")
class PerceiverCausalLM(keras.Model):
    """Perceiver AR: autoregressive byte-level language modelling.

    The input is up to `max_context` token ids (`ByteTokenizer` ids: byte
    `b` is id `b + 6`, id 0 is padding, on the left). Each is embedded
    with a learned token embedding plus a learned position embedding (the
    position counts from the first real token, so that left padding does
    not move the positions). The last `num_latents` positions become the
    latents: they cross-attend causally to the whole input (latent `i`
    sees the inputs up to its own position, none of the padding), then a
    stack of `num_self_attends` causally masked self-attention layers
    runs over them, and a LayerNorm and a dense layer give the logits of
    the next token at each latent position. The cost is O(M N) for the
    cross-attend over M inputs and O(N^2) per self-attend, against O(M^2)
    per layer for a Transformer over the same context.

    Train with next-token cross-entropy on the latent positions: for a
    window of `max_context + 1` bytes, the inputs are its first
    `max_context` ids and the targets its last `num_latents` ids.
    `generate` continues a prompt with a key/value cache, its steps
    compiled once per model.

    Args:
        max_context: int. The most input tokens M (position embeddings).
        num_latents: int. The latent positions N, at most `max_context`.
        latent_dim: int. The embedding and latent width D.
        num_self_attends: int. Causal self-attention layers. Defaults to 1.
        num_cross_heads: int. Cross-attention heads. Defaults to 1.
        num_self_heads: int. Self-attention heads. Defaults to 4.
        widening_factor: int. MLP widening in every block. Defaults to 4.
        dropout: float. Dropout rate in every block. Defaults to 0.
        **kwargs: Base model keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: int token ids `(batch, T)`, `T <= max_context`, padded with
            0 on the left.
        training: Python bool, whether dropout is active.

    Returns:
        Logits `(batch, min(T, num_latents), 262)` in float32, for the
        token after each of the last positions.

    Example:

    >>> model = PerceiverCausalLM(max_context=32, num_latents=8,
    ...                           latent_dim=16, num_self_heads=2)
    >>> ids, _ = ByteTokenizer().encode(["import os"])
    >>> tuple(model(ids).shape)
    (1, 8, 262)
    >>> len(model.generate("import ", max_new_tokens=4))
    4

    References:
        - [Hawthorne et al., 2022](https://arxiv.org/abs/2202.07765)
    """

    def __init__(
        self,
        max_context,
        num_latents,
        latent_dim,
        num_self_attends=1,
        num_cross_heads=1,
        num_self_heads=4,
        widening_factor=4,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_context = argument_checks.check_positive_int(
            "max_context", max_context
        )
        self.num_latents = argument_checks.check_positive_int(
            "num_latents", num_latents
        )
        if self.num_latents > self.max_context:
            raise ValueError(
                "`num_latents` must be at most `max_context` "
                f"({self.max_context}). Received: num_latents={num_latents}"
            )
        self.latent_dim = argument_checks.check_positive_int(
            "latent_dim", latent_dim
        )
        vocabulary_size = ByteTokenizer.vocabulary_size
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, self.latent_dim, name="token_embedding",
            dtype=self.dtype_policy,
        )
        self.position_embedding = keras.layers.Embedding(
            self.max_context, self.latent_dim, name="position_embedding",
            dtype=self.dtype_policy,
        )
        self.cross_attention = CrossAttention(
            num_heads=num_cross_heads, widening_factor=widening_factor,
            dropout=dropout, name="cross_attention", dtype=self.dtype_policy,
        )
        self.latent_transformer = LatentTransformer(
            num_layers=num_self_attends, num_heads=num_self_heads,
            widening_factor=widening_factor, dropout=dropout,
            name="latent_transformer", dtype=self.dtype_policy,
        )
        self.output_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, name="output_norm", dtype=self.dtype_policy
        )
        self.output_dense = keras.layers.Dense(
            vocabulary_size, name="output_dense", dtype=self.dtype_policy
        )
        self._compiled_steps = None

    def build(self, input_shape):
        latents_shape = (None, None, self.latent_dim)
        self.token_embedding.build(input_shape)
        self.position_embedding.build(input_shape)
        self.cross_attention.build(latents_shape, latents_shape)
        self.latent_transformer.build(latents_shape)
        self.output_norm.build(latents_shape)
        self.output_dense.build(latents_shape)

    def call(self, inputs, training=None):
        return self._logits(inputs, self._latents_for(inputs), training)

    def _latents_for(self, ids):
        """How many latents `ids` have: `num_latents`, or fewer for a
        shorter context; raises past `max_context`."""
        length = ids.shape[1]
        if length is not None and length > self.max_context:
            raise ValueError(
                f"The inputs must hold at most max_context={self.max_context}"
                f" tokens. Received: {length} tokens"
            )
        return min(self.num_latents, length or self.num_latents)

    def _logits(self, ids, num_latents, training=None):
        """The logits of the last `num_latents` positions of `ids`."""
        ids = ops.cast(ids, "int32")
        embeddings, key_mask = self._embed(ids)
        length = ops.shape(ids)[1]
        latents = embeddings[:, -num_latents:]
        latents = self.cross_attention(
            latents, embeddings, mask=causal_mask(num_latents, length, key_mask),
            training=training,
        )
        latents = self.latent_transformer(
            latents,
            attention_mask=causal_mask(num_latents, num_latents,
                             key_mask[:, -num_latents:]),
            training=training,
        )
        return self._output(latents)

    def _embed(self, ids, start=0):
        """Token plus position embeddings, and the mask of real tokens.

        Positions count from the first real token (left padding is id 0);
        `start` is the position of the first id when earlier ones are
        cached.
        """
        key_mask = ops.not_equal(ids, ByteTokenizer.pad_id)
        padding = ops.sum(1 - ops.cast(key_mask, "int32"), axis=1)
        positions = ops.arange(ops.shape(ids)[1]) + start - padding[:, None]
        embeddings = self.token_embedding(ids) + self.position_embedding(
            ops.maximum(positions, 0)
        )
        return embeddings, key_mask

    def cross_attention_maps(self, inputs, chunk_size=None):
        """Attention of the latents over the context in the cross-attend.

        The whole matrix; `cross_attention_map_chunks` and
        `mean_cross_attention_maps` stream it for long contexts.

        Args:
            inputs: int token ids `(batch, T)`, as `call` takes them.
            chunk_size: int or None. None computes the matrix in one
                softmax; an int joins `cross_attention_map_chunks` of that
                many positions. Defaults to None.

        Returns:
            A tensor `(batch, num_cross_heads, N, T)` of attention
            probabilities, `N = min(num_latents, T)`: row `n` says where
            the latent at position `T - N + n` looks, zero at every later
            position and at the padding.

        Example:

        >>> model.cross_attention_maps(ids).shape  # doctest: +SKIP
        (1, 1, 8, 32)
        """
        if chunk_size is not None:
            chunks = self.cross_attention_map_chunks(inputs, chunk_size)
            return ops.concatenate([maps for _, maps in chunks], axis=-1)
        latents, embeddings, key_mask = self._cross_attend_inputs(inputs)
        num_latents, length = latents.shape[1], embeddings.shape[1]
        return self.cross_attention.attention_weights(
            latents, embeddings, causal_mask(num_latents, length, key_mask)
        )

    def cross_attention_map_chunks(self, inputs, chunk_size=AUTO_CHUNK_SIZE):
        """`cross_attention_maps` streamed over chunks of the context.

        Exact slices of the whole matrix; the causal mask is made chunk by
        chunk too, so no `(N, T)` array exists.

        Args:
            inputs: int token ids `(batch, T)`.
            chunk_size: int. Positions per chunk. Defaults to 4096.

        Returns:
            A generator of `(start, probabilities)`, `probabilities` a
            float32 tensor `(batch, num_cross_heads, N, chunk)`.

        Example:

        >>> for start, maps in model.cross_attention_map_chunks(
        ...         ids, chunk_size=16):  # doctest: +SKIP
        ...     print(start, tuple(maps.shape))
        0 (1, 1, 8, 16)
        16 (1, 1, 8, 16)
        """
        return self._map_chunks(inputs, chunk_size)

    def mean_cross_attention_maps(self, inputs, latents,
                                  chunk_size=AUTO_CHUNK_SIZE):
        """Some latents' attention maps averaged over heads, as NumPy.

        Only the chosen latents' rows are computed, chunk by chunk.

        Args:
            inputs: int token ids `(batch, T)`.
            latents: list of ints, each in `[0, N)` (latent `n` sits at
                position `T - N + n`).
            chunk_size: int. Positions per chunk. Defaults to 4096.

        Returns:
            A float32 NumPy array `(batch, len(latents), T)`.

        Example:

        >>> model.mean_cross_attention_maps(ids, [0, 7]).shape  # doctest: +SKIP
        (1, 2, 32)
        """
        latents = argument_checks.check_indices(
            "latents", latents, self._latents_for(inputs)
        )
        return maps_averaged_over_heads(
            self._map_chunks(inputs, chunk_size, latents)
        )

    def _map_chunks(self, inputs, chunk_size, latents=None):
        """`cross_attention_map_chunks` of the latents `latents`
        (indices; None: all of them)."""
        chunk_size = argument_checks.check_positive_int(
            "chunk_size", chunk_size
        )
        queries, embeddings, key_mask = self._cross_attend_inputs(inputs)
        num_latents, length = queries.shape[1], embeddings.shape[1]
        positions = ops.arange(num_latents) + (length - num_latents)
        if latents is not None:
            queries = ops.take(queries, latents, axis=1)
            positions = ops.take(positions, latents)
        return self.cross_attention.attention_weight_chunks(
            queries, embeddings, chunk_size, key_mask,
            query_positions=positions,
        )

    def _cross_attend_inputs(self, ids):
        """The latents, the embedded context and its mask of real tokens."""
        num_latents = self._latents_for(ids)
        embeddings, key_mask = self._embed(ops.cast(ids, "int32"))
        return embeddings[:, -num_latents:], embeddings, key_mask

    def _output(self, latents):
        logits = self.output_dense(self.output_norm(latents))
        return ops.cast(logits, self.dtype_policy.variable_dtype)

    def generate(
        self,
        prompt,
        max_new_tokens=64,
        sampler="greedy",
        temperature=1.0,
        top_k=10,
        top_p=0.9,
        seed=None,
        use_cache=True,
    ):
        """Continues `prompt` byte by byte.

        The prompt's last `num_latents` bytes (all of them, if fewer) are
        the first latents, and every new byte joins the latents, which the
        key/value cache needs to stay exact (so a long continuation runs
        more latents than training did). With `use_cache` the keys and
        values of the cross-attend and of every self-attend are kept (in
        buffers of the whole context) and each step computes the new
        position only, compiled on the first call and reused by later ones
        whatever their prompt (`jax.jit`, `tf.function`; eager on
        PyTorch, as Keras compiles `predict`); without it each step runs
        the whole model eagerly on the whole sequence. Both give the same
        bytes. The prompt and the new bytes must fit in `max_context`.

        Args:
            prompt: str or bytes, at least one byte.
            max_new_tokens: int. The number of bytes to generate. Defaults
                to 64.
            sampler: str. "greedy" (the likeliest byte), "top_k" or "top_p"
                (see `top_k`, `top_p`). Defaults to "greedy".
            temperature: float. Divides the logits before sampling.
                Defaults to 1.
            top_k: int. "top_k" draws from the `top_k` likeliest bytes.
                Defaults to 10.
            top_p: float in (0, 1]. "top_p" draws from the likeliest bytes
                whose probabilities sum to `top_p`. Defaults to 0.9.
            seed: int or None. Seed of the draws. Defaults to None.
            use_cache: bool. Whether to keep keys and values between
                steps. Defaults to True.

        Returns:
            The continuation (without the prompt): bytes for a bytes
            prompt, str for a str prompt (invalid UTF-8 replaced).

        Raises:
            ValueError: for an empty prompt, a prompt that with
                `max_new_tokens` does not fit in `max_context` (naming
                both lengths), or bad sampling arguments.

        Example:

        >>> model.generate("def ", max_new_tokens=16, sampler="top_p",
        ...                top_p=0.9, seed=0)
        """
        ids = self._prompt_ids(prompt, max_new_tokens)
        sampling = check_sampling(sampler, temperature, top_k, top_p)
        argument_checks.check_bool("use_cache", use_cache)
        if not self.built:
            self.build((None, self.max_context))
        rng = np.random.default_rng(seed)
        step = self._cached_step if use_cache else self._uncached_step
        plan = GenerationPlan(len(ids), max_new_tokens, self.num_latents)
        new_ids, state = [], None
        for _ in range(max_new_tokens):
            logits, state = step(plan, ids, new_ids, state)
            new_ids.append(next_token(logits, rng, **sampling))
        continuation = bytes(
            token - ByteTokenizer.num_special_tokens for token in new_ids
        )
        if isinstance(prompt, str):
            return continuation.decode("utf-8", errors="replace")
        return continuation

    def _prompt_ids(self, prompt, max_new_tokens):
        """The prompt's token ids, checked against the context."""
        if not isinstance(prompt, (str, bytes)):
            raise ValueError(
                "`prompt` must be a str or bytes. Received: "
                f"prompt of type {type(prompt).__name__}"
            )
        data = prompt.encode() if isinstance(prompt, str) else prompt
        if not data:
            raise ValueError(
                "`prompt` must hold at least one byte. Received: prompt="
                f"{prompt!r}"
            )
        if len(data) > self.max_context:
            raise ValueError(
                f"The prompt must fit in the model's context of "
                f"max_context={self.max_context} bytes. Received: a prompt "
                f"of {len(data)} bytes"
            )
        argument_checks.check_positive_int("max_new_tokens", max_new_tokens)
        if len(data) + max_new_tokens > self.max_context:
            raise ValueError(
                f"The prompt ({len(data)} bytes) and max_new_tokens "
                f"({max_new_tokens}) must fit in the model's context of "
                f"max_context={self.max_context} bytes. Received: "
                f"{len(data)} + {max_new_tokens} = "
                f"{len(data) + max_new_tokens} bytes"
            )
        return [byte + ByteTokenizer.num_special_tokens for byte in data]

    def _uncached_step(self, plan, ids, new_ids, state):
        """The whole model on the whole sequence.

        The sequence is padded on the right to its final length with a
        filler byte, which the causal masks hide from the real positions,
        so that every step has the same shapes (compiled once).
        """
        filler = [FILLER_ID] * (plan.length - len(ids) - len(new_ids))
        sequence = np.array([ids + new_ids + filler], dtype="int32")
        logits = self._logits(sequence, plan.latent_capacity)
        return ops.convert_to_numpy(
            logits[0, plan.num_prompt_latents + len(new_ids) - 1]
        ), None

    def _cached_step(self, plan, ids, new_ids, state):
        """The new positions only, in buffers of the whole context.

        The first step runs the prompt (`_prefill`), each later one the
        last new byte (`_extend`), each compiled once for the model
        (`compile_inference`): every step has the same shapes whatever
        the prompt. `state` holds the cross-attend's keys and values of
        every position so far and each self-attend's of every latent so
        far, in buffers of `max_context` positions.
        """
        prefill, extend = self._generation_steps()
        first_latent = _int_tensor(plan.first_latent_position)
        if state is None:
            filler = [FILLER_ID] * (self.max_context - len(ids))
            logits, caches = prefill(_int_tensor([ids + filler]), first_latent)
            index = len(ids) - 1 - plan.first_latent_position
            return ops.convert_to_numpy(logits[0, index]), caches
        position = len(ids) + len(new_ids) - 1
        logits, caches = extend(
            _int_tensor([new_ids[-1:]]), _int_tensor(position), first_latent,
            state,
        )
        return ops.convert_to_numpy(logits[0, 0]), caches

    def _generation_steps(self):
        """`_prefill` and `_extend`, compiled (once per model)."""
        if self._compiled_steps is None:
            self._compiled_steps = tuple(
                compile_inference(self, function)
                for function in (self._prefill, self._extend)
            )
        return self._compiled_steps

    def _prefill(self, sequence, first_latent):
        """The prompt's step: keys and values of the whole context, and
        the `num_latents` latents from `first_latent` on.

        Args:
            sequence: int32 ids `(1, max_context)`, the prompt then
                filler, whose keys, values and latents the later steps
                overwrite before any query sees them.
            first_latent: int32 scalar tensor, the first latent's
                position.

        Returns:
            The logits `(1, num_latents, 262)` of those latents, and the
            caches for `_extend`.
        """
        embeddings, _ = self._embed(sequence)
        latents = ops.slice(embeddings, (0, first_latent, 0),
                            (1, self.num_latents, self.latent_dim))
        return self._attend_new_latents(
            latents, first_latent, first_latent,
            self.cross_attention.project_inputs(embeddings),
            self.latent_transformer.empty_caches(1, self.max_context),
        )

    def _extend(self, token, position, first_latent, caches):
        """One generated byte's step, with the caches of the earlier ones.

        Args:
            token: int32 id `(1, 1)`.
            position: int32 scalar tensor, the token's position.
            first_latent: int32 scalar tensor, the first latent's
                position.
            caches: what the previous step returned.

        Returns:
            The logits `(1, 1, 262)` of the token's latent and the caches.
        """
        (keys, values), self_caches = caches
        embeddings, _ = self._embed(token, position)
        new_keys, new_values = self.cross_attention.project_inputs(embeddings)
        keys = ops.slice_update(keys, (0, position, 0, 0), new_keys)
        values = ops.slice_update(values, (0, position, 0, 0), new_values)
        return self._attend_new_latents(
            embeddings, position, first_latent, (keys, values), self_caches
        )

    def _attend_new_latents(self, latents, start, first_latent, cross_caches,
                            self_caches):
        """The new latents (from position `start`) through the causal
        cross-attend and self-attends, with the keys and values cached."""
        num_new = latents.shape[1]
        latents = self.cross_attention(
            latents, latents,  # The inputs are read from the cache.
            mask=causal_mask(num_new, self.max_context, start=start),
            projected_inputs=cross_caches,
        )
        latents, self_caches = self.latent_transformer.extend(
            latents, self_caches, start - first_latent
        )
        return self._output(latents), (cross_caches, self_caches)

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        num_latents = min(self.num_latents, length or self.num_latents)
        return (input_shape[0], num_latents, ByteTokenizer.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        transformer = self.latent_transformer
        config.update(
            {
                "max_context": self.max_context,
                "num_latents": self.num_latents,
                "latent_dim": self.latent_dim,
                "num_self_attends": transformer.num_layers,
                "num_cross_heads": self.cross_attention.num_heads,
                "num_self_heads": transformer.num_heads,
                "widening_factor": transformer.widening_factor,
                "dropout": transformer.dropout,
            }
        )
        return config


def _int_tensor(value):
    return ops.convert_to_tensor(np.asarray(value, dtype="int32"))
