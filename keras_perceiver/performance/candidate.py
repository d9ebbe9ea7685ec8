"""One way to train: a backend, a precision, compiled or not."""

import dataclasses

PRECISIONS = ("float32", "mixed_bfloat16")
# What compiles the training step on each backend.
COMPILERS = {"torch": "torch.compile", "tensorflow": "XLA", "jax": "jit"}
# How an uncompiled step runs: TensorFlow traces it into a graph
# (`tf.function` without XLA), torch runs it op by op.
UNCOMPILED = {"torch": "eager", "tensorflow": "graph", "jax": "eager"}


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A backend, a precision and whether the training step is compiled.

    JAX always compiles its step (Keras' JAX backend runs uncompiled steps
    op by op, far slower), so its candidates are compiled ones, and they
    count as the ones `train` runs without `--jit-compile` too.

    Args:
        backend: str. "tensorflow", "jax" or "torch".
        precision: str. "float32" or "mixed_bfloat16".
        compiled: bool. The step compiled: XLA on TensorFlow,
            `torch.compile` on torch, jit on JAX.

    Example:

    >>> Candidate("tensorflow", "float32", True).label
    'tensorflow, float32, XLA'
    """

    backend: str
    precision: str
    compiled: bool

    @property
    def compile_label(self):
        """What compiles the step ("XLA", "torch.compile", "jit"), or how
        it runs uncompiled ("graph" on TensorFlow, "eager" on torch)."""
        return (COMPILERS if self.compiled else UNCOMPILED)[self.backend]

    @property
    def label(self):
        """E.g. "torch, float32, eager"."""
        return f"{self.backend}, {self.precision}, {self.compile_label}"

    def matches(self, backend="auto", precision="auto", jit_compile="auto"):
        """Whether the candidate has the values that are not "auto".

        Args:
            backend: str. A backend or "auto". Defaults to "auto".
            precision: str. A precision or "auto". Defaults to "auto".
            jit_compile: bool or "auto". Defaults to "auto"; a JAX
                candidate matches either bool.

        Returns:
            bool.
        """
        return ((backend == "auto" or backend == self.backend)
                and (precision == "auto" or precision == self.precision)
                and (jit_compile == "auto" or jit_compile == self.compiled
                     or self.backend == "jax"))


# The floor: `auto` never picks what would train slower than this.
FLOOR = Candidate("torch", "float32", False)
# Every candidate, in the order they are measured: each backend's in one
# process (a new model per precision), torch.compile (of the repeated
# blocks, `training.regional_compile`) last, in a process of its own,
# with what is left of the budget. TensorFlow's XLA step before its graph
# one: XLA is its faster float32 path (benchmarks/results), and with 60 s
# for every candidate the later ones of a group may not be reached.
CANDIDATES = (
    FLOOR,
    Candidate("torch", "mixed_bfloat16", False),
    Candidate("tensorflow", "float32", True),
    Candidate("tensorflow", "float32", False),
    Candidate("tensorflow", "mixed_bfloat16", True),
    Candidate("tensorflow", "mixed_bfloat16", False),
    Candidate("jax", "float32", True),
    Candidate("jax", "mixed_bfloat16", True),
    Candidate("torch", "float32", True),
    Candidate("torch", "mixed_bfloat16", True),
)
