"""rapportkit benchmarks: every figure is a ratio against a baseline measured in the same run.

Run with ``make bench`` (or ``python -m bench [NAME ...]``); results go to
``bench/results.md``. The machines these run on are noisy, so each figure is a median of
several runs, and targets are ratios wherever a fair baseline exists.
"""
