"""What was measured of one candidate: a row of the table."""

import dataclasses
import math
import numbers
from typing import Optional

from keras_perceiver.performance.candidate import COMPILERS
from keras_perceiver.performance.candidate import Candidate
from keras_perceiver.performance.candidate import PRECISIONS

NUMBERS = ("startup_s", "first_step_s", "step_s")
# Compilations a run pays beyond its first step's (counted for every
# candidate; an uncompiled one's first step costs little more than the
# others): the evaluation step (validation, test) and, where the compiler
# specialises on the batch size (XLA), the training step again for an
# epoch's last, shorter batch. Torch compiles its repeated blocks with the
# batch dimension dynamic (`training.regional_compile`): a shorter batch
# compiles nothing unless it holds a single example.
RECOMPILES = 2
BLOCKS_COMPILED_RECOMPILES = 1


@dataclasses.dataclass
class Measurement:
    """A candidate's times, or why it has none.

    Args:
        candidate: a `Candidate`.
        startup_s: float or None. Seconds from starting the process to a
            built model (imports, data, model).
        first_step_s: float or None. Seconds of the first training step
            (tracing and compiling included).
        step_s: float or None. Seconds of a training step after the first
            (the median of those timed).
        steps_timed: int. Steps after the first that were timed.
        note: str. Why it has no times, e.g. "not measured: over the
            budget"; empty when measured.

    Example:

    >>> row = Measurement(FLOOR, startup_s=4.0, first_step_s=0.5,
    ...                   step_s=0.1, steps_timed=20)
    >>> row.predicted_s(101)
    15.3
    """

    candidate: Candidate
    startup_s: Optional[float] = None
    first_step_s: Optional[float] = None
    step_s: Optional[float] = None
    steps_timed: int = 0
    note: str = ""

    @property
    def measured(self):
        """Whether every time is known."""
        return all(getattr(self, name) is not None for name in NUMBERS)

    def predicted_s(self, steps):
        """Seconds of a run of `steps` training steps: start-up, the first
        step, then `steps - 1` steps, and `recompiles` times what the
        first step took beyond a later one (its tracing and compiling);
        None when not measured.

        Args:
            steps: int. Training steps of the run.

        Returns:
            float or None.
        """
        if not self.measured:
            return None
        compiling_s = max(0.0, self.first_step_s - self.step_s)
        return (self.startup_s + self.first_step_s + (steps - 1) * self.step_s
                + self.recompiles * compiling_s)

    @property
    def recompiles(self):
        """How many times a run compiles again after its first step."""
        blocks_compiled = (self.candidate.backend == "torch"
                           and self.candidate.compiled)
        return BLOCKS_COMPILED_RECOMPILES if blocks_compiled else RECOMPILES

    def to_json(self):
        """The row as a dict of JSON values (see `from_json`)."""
        return {**dataclasses.asdict(self.candidate),
                **{name: getattr(self, name) for name in NUMBERS},
                "steps_timed": self.steps_timed, "note": self.note}

    @classmethod
    def from_json(cls, row):
        """The row `to_json` wrote.

        Args:
            row: dict.

        Returns:
            A `Measurement`.

        Raises:
            ValueError: a row that `to_json` did not write.
        """
        try:
            candidate = Candidate(row["backend"], row["precision"],
                                  row["compiled"])
            times = {name: row[name] for name in NUMBERS}
            note, steps_timed = row["note"], row["steps_timed"]
        except (KeyError, TypeError):
            raise ValueError(f"a table row lacks its fields. Received: "
                             f"{row!r}") from None
        good = (candidate.backend in COMPILERS
                and candidate.precision in PRECISIONS
                and isinstance(candidate.compiled, bool)
                and isinstance(note, str) and isinstance(steps_timed, int)
                and all(value is None or _seconds(value)
                        for value in times.values()))
        if not good:
            raise ValueError(f"a table row holds values of the wrong kind. "
                             f"Received: {row!r}")
        return cls(candidate, **times, steps_timed=steps_timed, note=note)


def _seconds(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)
