"""What every route reaches through ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from analyzer.config import Settings
from analyzer.service._config import ServiceConfig
from analyzer.service._store import Store
from analyzer.service._worker import Worker


@dataclass
class ServiceState:
    """The app's store, worker and settings."""

    store: Store
    worker: Worker
    config: ServiceConfig
    settings: Settings


def state_of(request: Request) -> ServiceState:
    """The state of the app serving this request."""
    state: ServiceState = request.app.state.walkaway
    return state
