"""What `choose` chose, and the table it chose from."""

import dataclasses
from typing import Tuple

from keras_perceiver.performance.measurement import Measurement

TABLE_HEADER = ("backend", "precision", "compile", "start-up s",
                "first step s", "step s", "predicted s", "chosen", "note")


@dataclasses.dataclass(frozen=True)
class Choice:
    """The backend, precision and compilation `choose` picked, and why.

    Args:
        chosen: a `Measurement`. The row picked.
        table: tuple of `Measurement`. Every candidate, measured or with
            the note that says why not.
        steps: int. The training steps of the run the times are predicted
            for.
        measured_at: str. When the table was measured (ISO 8601).
        from_cache: bool. Whether the table came from the cache.
        machine_line: str. The machine and library versions, one line.

    Example:

    >>> choice = keras_perceiver.performance.choose(model, (8, 8, 1), 64)
    >>> choice.backend, choice.precision, choice.jit_compile
    ('torch', 'float32', False)
    >>> print(choice.table_text())
    """

    chosen: Measurement
    table: Tuple[Measurement, ...]
    steps: int
    measured_at: str
    from_cache: bool
    machine_line: str

    @property
    def backend(self):
        """str. The Keras backend to run on."""
        return self.chosen.candidate.backend

    @property
    def precision(self):
        """str. "float32" or "mixed_bfloat16" (the dtype policy)."""
        return self.chosen.candidate.precision

    @property
    def jit_compile(self):
        """bool. `model.compile`'s `jit_compile`."""
        return self.chosen.candidate.compiled

    def reason(self):
        """One line: the choice, when it was measured, and its predicted
        time against the runner-up's."""
        predicted = self.chosen.predicted_s(self.steps)
        others = sorted((row for row in self.table
                         if row.measured and row is not self.chosen),
                        key=lambda row: row.predicted_s(self.steps))
        against = (f"against {others[0].predicted_s(self.steps):.0f} s for "
                   f"{others[0].candidate.label}" if others
                   else "the only candidate measured")
        cached = ", cached" if self.from_cache else ""
        return (f"{self.chosen.candidate.label} (measured "
                f"{self.measured_at[:10]}{cached}; predicted {predicted:.0f} "
                f"s for {self.steps} steps, {against})")

    def table_text(self):
        """The table as aligned text, one row per candidate.

        Returns:
            str.
        """
        rows = [TABLE_HEADER] + [self._cells(row) for row in self.table]
        widths = [max(len(row[column]) for row in rows)
                  for column in range(len(TABLE_HEADER))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
            .rstrip() for row in rows)

    def _cells(self, row):
        times = [row.startup_s, row.first_step_s, row.step_s,
                 row.predicted_s(self.steps)]
        return (row.candidate.backend, row.candidate.precision,
                row.candidate.compile_label,
                *("-" if value is None else f"{value:.3g}" for value in times),
                "<-" if row is self.chosen else "", row.note)
