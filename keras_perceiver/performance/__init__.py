"""Which backend, precision and compilation train fastest here, measured.

`choose` measures a model's training steps on every installed backend, in
float32 and (where the CPU computes it natively, or on a GPU) mixed
bfloat16, eager and compiled, each backend in a process of its own within
a time budget, and picks the fastest for the run's length: what
`keras-perceiver train --backend auto --precision auto --compile auto`
runs, and what `keras-perceiver benchmark` shows. The table is cached per
machine, model, batch size and library versions.

- `choose`, `choose_for_workload`, `pick`: the measurement and the rules
  (`choosing`).
- `Choice`: what was chosen, the table, the reason (`choice`).
- `Candidate`, `Measurement`: a candidate and its row (`candidate`,
  `measurement`).
- `Workload`: what a measuring process trains (`workload`); the process
  itself is `python -m keras_perceiver.performance.measure`.
- `cache_folder`: where the tables are kept (`measurement_cache`).

The names load on their first use: the command line chooses before Keras
loads.

Example:

>>> choice = keras_perceiver.performance.choose(model, (8, 8, 1), 64)
>>> choice.backend, choice.precision, choice.jit_compile
('torch', 'float32', False)
"""

from keras_perceiver.optional_dependencies import names_loaded_on_use

_CHOOSE = f"{__name__}.choosing"

_PUBLIC_NAMES = {
    "Candidate": f"{__name__}.candidate",
    "Choice": f"{__name__}.choice",
    "Measurement": f"{__name__}.measurement",
    "Workload": f"{__name__}.workload",
    "cache_folder": f"{__name__}.measurement_cache",
    "choose": _CHOOSE,
    "choose_for_workload": _CHOOSE,
    "pick": _CHOOSE,
}

__all__ = sorted(_PUBLIC_NAMES)
__getattr__, __dir__ = names_loaded_on_use(__name__, _PUBLIC_NAMES)
