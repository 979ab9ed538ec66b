"""Measurements that print a table: how long training takes to start reading (plateau)."""
