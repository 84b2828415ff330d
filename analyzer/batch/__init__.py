"""Batch analysis at scale: bounded concurrency, rate limits, resumable runs, fault tolerance."""

from analyzer.batch.engine import AnalyzeFn, Engine, EngineStats, retry_after_seconds
from analyzer.batch.ratelimit import RateLimiter

__all__ = ["AnalyzeFn", "Engine", "EngineStats", "RateLimiter", "retry_after_seconds"]
