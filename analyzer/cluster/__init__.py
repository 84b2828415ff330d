"""Batches past one machine: `walkaway batch --engine ray` (see ``ray_engine.py``)."""
