"""The ``retrain demo`` workspace: a year of real NYC flights delivered month by month.

Kept import-free so that ``retrain --help`` does not pay for pandas; the builder lives in
``retrain.demo.workspace``.
"""
