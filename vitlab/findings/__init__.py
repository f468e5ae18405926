"""Findings: the paper's claims re-tested on vitlab's own runs, aggregated over seeds.

claims.py says what the paper states and which measured differences would support it;
metrics.py reads those measurements out of one run's Results; aggregate.py turns the
runs of several seeds into means, 95% t-intervals and verdicts; write.py renders
docs/findings_32px.md with its figures; study.py runs the recipe once per seed.
Nothing here imports TensorFlow except study.py (which trains).
"""
