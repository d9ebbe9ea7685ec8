"""The paper's experimental findings, reproduced in miniature on real data.

`python -m benchmarks.paper [NAME ...]` runs them (see `__main__`); each
experiment is one module here (see `experiment` for what one provides).
"""
