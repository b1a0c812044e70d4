"""The experiment: the config's variants expanded into runs, teachers and inits; Single's alpha
choice; per-seed scores; config checks, code fingerprints and cluster resources for the workflow.
"""
