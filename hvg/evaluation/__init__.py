"""Evaluation: I3D features and IS / FID / FVD metrics (registered in METRICS).

Empty for now: the metrics are a later milestone. The package exists so the
``METRICS`` registry's ``locations=['hvg.evaluation']`` resolves.
"""
