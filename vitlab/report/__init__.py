"""A run's report. plots.py draws a result's curves (matplotlib; Result.plot uses it);
markdown.py writes report/index.md with the tables and those drawings (write_report).

This file imports nothing, so that importing vitlab.report.plots from vitlab.results does not
import vitlab.results back through the package.
"""
