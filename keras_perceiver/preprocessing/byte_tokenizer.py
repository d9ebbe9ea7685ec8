import re

import numpy as np

from keras_perceiver import argument_checks

SPECIAL_TOKENS = ("[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]")
_SPECIAL_TOKEN_PATTERN = re.compile(
    "(" + "|".join(re.escape(token) for token in SPECIAL_TOKENS) + ")"
)


class ByteTokenizer:
    """UTF-8 bytes as tokens, as in DeepMind's Perceiver IO language model.

    Byte `b` is token `b + 6`; ids 0-5 are the special tokens `[PAD]`,
    `[BOS]`, `[EOS]`, `[MASK]`, `[CLS]` and `[SEP]`, so the vocabulary has
    262 ids. A special token written in the text (`"[MASK]"`) becomes its
    id. Encoded texts start with `[CLS]` and end with `[SEP]`, and are
    padded with `[PAD]` to a common length with a mask (True = real token),
    the input `PerceiverMaskedLM` takes. The same ids as Hugging Face's
    `PerceiverTokenizer` (and so the converted `language-perceiver`
    checkpoint expects), with no dependency.

    Example:

    >>> tokenizer = ByteTokenizer()
    >>> ids, mask = tokenizer.encode(["hi", "a [MASK]"])
    >>> ids.tolist()
    [[4, 110, 111, 5, 0], [4, 103, 38, 3, 5]]
    >>> tokenizer.decode([4, 110, 111, 5])
    'hi'
    """

    pad_id, bos_id, eos_id, mask_id, cls_id, sep_id = range(6)
    num_special_tokens = len(SPECIAL_TOKENS)
    vocabulary_size = 256 + num_special_tokens

    def encode(self, texts, length=None):
        """Token ids and mask of a batch of texts.

        Args:
            texts: str or list of str.
            length: int or None. Pad (or raise if longer) to this many
                tokens. Defaults to None, meaning the longest text's.

        Returns:
            A tuple `(ids, mask)` of NumPy arrays `(batch, length)`, int32
            and bool.
        """
        if isinstance(texts, str):
            texts = [texts]
        rows = [
            [self.cls_id] + self._text_ids(text) + [self.sep_id]
            for text in texts
        ]
        longest = max(len(row) for row in rows)
        if length is None:
            length = longest
        argument_checks.check_positive_int("length", length)
        if longest > length:
            raise ValueError(
                f"`length` must hold the longest text ({longest} tokens with "
                f"[CLS] and [SEP]). Received: length={length}"
            )
        ids = np.full((len(rows), length), self.pad_id, dtype="int32")
        mask = np.zeros((len(rows), length), dtype=bool)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
            mask[index, : len(row)] = True
        return ids, mask

    def _text_ids(self, text):
        ids = []
        for piece in _SPECIAL_TOKEN_PATTERN.split(text):
            if piece in SPECIAL_TOKENS:
                ids.append(SPECIAL_TOKENS.index(piece))
            else:
                ids.extend(
                    byte + self.num_special_tokens for byte in piece.encode()
                )
        return ids

    def decode(self, ids):
        """The text of one sequence of ids; special tokens are dropped.

        Args:
            ids: sequence of ints.

        Returns:
            str, with invalid UTF-8 replaced.
        """
        data = bytes(
            int(token) - self.num_special_tokens
            for token in ids
            if self.num_special_tokens <= int(token) < self.vocabulary_size
        )
        return data.decode("utf-8", errors="replace")
