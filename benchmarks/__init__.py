"""Speed, scaling and memory benchmarks; run them with `python -m benchmarks.run_all`."""
