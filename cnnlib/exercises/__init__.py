"""Checkers for the notebooks' exercises, one module per notebook topic.

A checker runs the learner's function against an independent reference on worked and random
cases and says what is wrong (which input, expected versus got) instead of a bare assert.
"""
