"""Fixtures for the batch tests; the scripted analyze function lives in ``batch_helpers``."""
