"""Reporting: statistics (bootstrap, Mann-Whitney, Holm), the paper's tables as LaTeX, figures,
the GLUE submission and the cost table, from per-seed scores.
"""
