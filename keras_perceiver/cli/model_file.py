"""Loading a `.keras` model named on the command line."""

import pathlib
import zipfile

from keras_perceiver.cli.main import CommandError, first_line


def load_keras_model(path):
    """Loads a `.keras` file, or raises CommandError with one line."""
    import keras

    from keras_perceiver import models  # noqa: F401  (registers the classes)

    path = pathlib.Path(path)
    if not path.is_file():
        raise CommandError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):  # empty, cut short or another format
        raise CommandError(
            f"cannot load {path}: it is not a .keras file (a zip archive)"
        )
    try:
        # Without the training setup it was saved with: evaluate compiles
        # it again, and predict and export keep Keras' "auto" jit_compile
        # rather than spend minutes in torch.compile after a --jit-compile
        # run.
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, EOFError,
            zipfile.BadZipFile) as error:
        raise CommandError(
            f"cannot load {path}: {first_line(error)}"
        ) from None
