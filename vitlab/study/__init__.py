"""The study: the paper's claims re-tested on models vitlab trains itself, under the paper's
recipes and a matched-recipe control (docs/study.md).

design.py holds the cells and the schedule; runner.py trains a cell for a seed, resumably,
packing its state where a new machine can pick it up, and measures every epoch's snapshot;
snapshot_eval.py is that measurement, run in a process of its own.
"""
