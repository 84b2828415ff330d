"""Batch analysis at scale: bounded concurrency, rate limits, resumable runs, fault tolerance.

``Engine`` is shared with the upload service; ``run_batch`` is what `walkaway batch` runs.
"""

from analyzer.batch.engine import AnalyzeFn, Engine, EngineStats, retry_after_seconds
from analyzer.batch.inputs import BatchItem, ManifestError, expand_inputs, read_manifest
from analyzer.batch.ratelimit import RateLimiter
from analyzer.batch.runner import BatchResult, ProgressSink, run_batch
from analyzer.batch.store import ResultRecord, RunStore, work_key

__all__ = [
    "AnalyzeFn",
    "BatchItem",
    "BatchResult",
    "Engine",
    "EngineStats",
    "ManifestError",
    "ProgressSink",
    "RateLimiter",
    "ResultRecord",
    "RunStore",
    "expand_inputs",
    "read_manifest",
    "retry_after_seconds",
    "run_batch",
    "work_key",
]
