"""Measurements that print a Markdown table with their conditions stated.

``infer``: reading speed per runtime; ``train`` (with ``train_report``): whether the data
pipeline keeps up with the model, here and on a GPU; ``busy``: training beside other CPU-bound
programs; ``plateau``: how long training takes to start reading. ``system`` describes the
machine and ``table`` writes every table, so that all reports read alike.
"""
