"""Measurements that print a Markdown table with their conditions stated.

``infer``: reading speed per runtime; ``train`` (with ``train_*``): where training time goes;
``plateau``: how long training takes to start reading. ``system`` describes the machine and
``table`` writes every table, so that all reports read alike.
"""
