"""Speed, scaling and memory benchmarks.

Run them all with `python -m benchmarks.run_all`.
"""
