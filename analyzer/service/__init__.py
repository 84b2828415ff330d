"""The upload service: a web page and a JSON API over the same Engine as `walkaway batch`.

``create_app()`` builds the FastAPI app; ``walkaway serve`` runs it with uvicorn. Jobs live in the
database (SQLite under the walkaway home by default, PostgreSQL with ``WALKAWAY_DATABASE_URL``), so
queued and running analyses resume after a restart; a job whose worker died is taken back after its
lease, and one that keeps killing its worker is failed after ``max_attempts``. No CPU work runs on the
server's event loop: analyses run in child processes (``_procs``; the embedded local model's on a loop
in a thread), large parses and renders in child processes too, small ones in threads.
"""

from analyzer.service._app import create_app
from analyzer.service._config import ServiceConfig, load_service_config
from analyzer.service._store import AnalysisView, Job, Store
from analyzer.service._worker import Analyzer, Worker

__all__ = ["AnalysisView", "Analyzer", "Job", "ServiceConfig", "Store", "Worker", "create_app", "load_service_config"]
