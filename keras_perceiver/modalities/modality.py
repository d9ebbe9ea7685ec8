"""`Modality`: everything the package does with one kind of data."""

import dataclasses
from typing import Callable

ADAPTER_OPTIONS = ("patch_size", "crop_size")
"""The adapter options a `Modality` may take (`Modality.adapter_options`)."""


@dataclasses.dataclass(frozen=True)
class Modality:
    """One kind of input data and what the package does with it.

    A modality's module (`keras_perceiver.modalities.image`, ...) makes one
    `Modality` and registers it (`keras_perceiver.modalities.register`);
    everything else asks the registry. The first five fields are needed by
    every modality; the rest say how its data are read and prepared, and
    are left out by modalities that do not come in files or TFDS features
    (files need `extensions`, `inspect`, `preprocessing` and `read`).

    Args:
        name: str. The `Dataset.modality` value, e.g. "image".
        plural: str. What the data are called in messages, e.g. "images".
        adapter_factory: callable. Makes the modality's input adapter from
            `num_bands=` and the `adapter_options`, with the modality's
            default settings for everything else.
        adapter_options: tuple of str. Which of `ADAPTER_OPTIONS`
            ("patch_size", "crop_size") the user may set for this modality.
        attention_drawer: callable. Draws an example and attention over it
            (see `keras_perceiver.modalities.attention_drawing`).
        extensions: tuple of str. The lower-case extensions of the
            modality's files, e.g. `(".wav",)`. Defaults to `()`: no files.
        inspect: callable `path -> facts` or None. Opens one file; raises
            `ValueError` naming the file if it cannot be read, else returns
            what `preprocessing` needs (e.g. image size and mode). Defaults
            to None.
        preprocessing: callable `(facts, **options) -> dict` or None. How
            the data become model inputs, chosen from the facts of all the
            files and the options of
            `keras_perceiver.datasets.file_inputs.preprocessing_for` (it
            takes those it uses by name and ignores the rest); a
            JSON-serialisable dict whose "modality" is `name`, kept by the
            trained model. Defaults to None.
        read: callable `(path, preprocessing) -> inputs` or None.
            TensorFlow ops that read one file (a string tensor) into a
            model input, inside a tf.data pipeline. Defaults to None.
        prepare: callable `(values, preprocessing) -> inputs` or None.
            TensorFlow ops that make a model input of decoded values (a
            TFDS feature's). Defaults to None.
        modality_of_inputs: callable `preprocessing -> str` or None. The
            `Dataset.modality` of the inputs that `preprocessing` makes,
            where that is not `name` (audio read as log-mel spectrograms).
            Defaults to None: `name`.

    Example:

    >>> smell = Modality(
    ...     name="smell", plural="smell recordings",
    ...     adapter_factory=keras_perceiver.adapters.SequenceAdapter,
    ...     adapter_options=(),
    ...     attention_drawer=attention_drawing.signal_drawer)
    >>> adapter = smell.make_adapter(num_bands=8)
    """

    name: str
    plural: str
    adapter_factory: Callable
    adapter_options: tuple
    attention_drawer: Callable
    extensions: tuple = ()
    inspect: Callable = None
    preprocessing: Callable = None
    read: Callable = None
    prepare: Callable = None
    modality_of_inputs: Callable = None

    def __post_init__(self):
        unknown = sorted(set(self.adapter_options) - set(ADAPTER_OPTIONS))
        if unknown:
            raise ValueError(
                f"`adapter_options` must be among {ADAPTER_OPTIONS}. "
                f"Received: adapter_options={self.adapter_options!r}"
            )
        missing = [field for field in ("inspect", "preprocessing", "read")
                   if getattr(self, field) is None]
        if self.extensions and missing:
            raise ValueError(
                "A modality with file `extensions` needs `inspect`, "
                f"`preprocessing` and `read`. Received: {self.name} without "
                f"{', '.join(missing)}"
            )
        if any(extension != extension.lower() or not extension.startswith(".")
               for extension in self.extensions):
            raise ValueError(
                "`extensions` must be lower case, each starting with '.'. "
                f"Received: extensions={self.extensions!r}"
            )

    def make_adapter(self, num_bands, patch_size=None, crop_size=None):
        """The modality's input adapter.

        Args:
            num_bands: int. Fourier bands per position axis.
            patch_size: int, tuple of ints, or None. Passed on where the
                modality takes it (None: the modality's default), ignored
                otherwise. Defaults to None.
            crop_size: int, pair of ints, or None. As `patch_size`.
                Defaults to None.

        Returns:
            An input adapter layer.

        Example:

        >>> get("spectrogram").make_adapter(num_bands=8).patch_size
        (4, 4)
        """
        given = {"patch_size": patch_size, "crop_size": crop_size}
        options = {name: given[name] for name in self.adapter_options}
        return self.adapter_factory(num_bands=num_bands, **options)

    def inputs_modality(self, preprocessing):
        """The `Dataset.modality` of the inputs `preprocessing` makes.

        Args:
            preprocessing: dict, as `preprocessing` returns it.

        Returns:
            str. `name`, unless `modality_of_inputs` says otherwise.

        Example:

        >>> get("audio").inputs_modality({"modality": "audio",
        ...                               "audio_features": "log_mel"})
        'spectrogram'
        """
        if self.modality_of_inputs is None:
            return self.name
        return self.modality_of_inputs(preprocessing)
