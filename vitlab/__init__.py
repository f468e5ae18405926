"""vitlab: study how vision transformers behave (Naseer et al., NeurIPS 2021, made into a tool).

Importing vitlab is cheap: TensorFlow and Keras load only in the modules that need them.
"""

__version__ = "0.1.0"
