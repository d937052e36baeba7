"""The daemon's counters as Prometheus metrics (`[daemon] metrics = "127.0.0.1:9464"`; off by default).

prometheus-client is an optional dependency (`pip install 'zwgk-workflow[metrics]'`), imported only when metrics
are switched on. The metrics live in a registry of their own, so a host that embeds the engine keeps its own.
"""

from __future__ import annotations

import time
from typing import Any

from workflow.config import ConfigError, listen_address


class Metrics:
    """What the daemon reports; this base reports nothing (metrics off)."""

    def sent(self, channel: str) -> None:
        pass

    def failed(self, channel: str, *, dead: bool) -> None:
        pass

    def claim_lost(self, channel: str) -> None:
        pass

    def send_pass(self, seconds: float, *, ok: bool) -> None:
        pass

    def close(self) -> None:
        pass


NO_METRICS = Metrics()


class Prometheus(Metrics):
    def __init__(self, address: str) -> None:
        try:
            import prometheus_client as pc
        except ImportError:
            raise ConfigError("daemon.metrics needs prometheus-client: pip install 'zwgk-workflow[metrics]'") from None
        listen = listen_address(address)
        if listen is None:
            raise ConfigError("daemon.metrics: '{address}' is not HOST:PORT like 127.0.0.1:9464", address=address)
        self.registry = pc.CollectorRegistry()
        per_channel: dict[str, Any] = {"labelnames": ["channel"], "registry": self.registry}
        self._sent = pc.Counter("zwgk_notifications_sent", "Messages delivered", **per_channel)
        self._failed = pc.Counter("zwgk_notifications_failed", "Sends that failed (retried or dead-lettered)",
                                  **per_channel)
        self._dead = pc.Counter("zwgk_notifications_dead_lettered", "Messages given up on", **per_channel)
        self._lost = pc.Counter("zwgk_claims_lost", "Sends whose claim another daemon had taken over meanwhile",
                                **per_channel)
        self._pass = pc.Histogram("zwgk_send_pass_seconds", "How long a sending pass took", registry=self.registry)
        self._last = pc.Gauge("zwgk_last_successful_pass_timestamp_seconds",
                              "Unix time at which the last sending pass ended without an error", registry=self.registry)
        host, port = listen
        try:
            self.server, self.thread = pc.start_http_server(port, addr=host, registry=self.registry)
        except OSError as e:
            raise ConfigError("daemon.metrics: cannot listen on {address}: {reason}", address=address,
                              reason=e.strerror or str(e)) from None

    def sent(self, channel: str) -> None:
        self._sent.labels(channel).inc()

    def failed(self, channel: str, *, dead: bool) -> None:
        self._failed.labels(channel).inc()
        if dead:
            self._dead.labels(channel).inc()

    def claim_lost(self, channel: str) -> None:
        self._lost.labels(channel).inc()

    def send_pass(self, seconds: float, *, ok: bool) -> None:
        self._pass.observe(seconds)
        if ok:
            self._last.set(time.time())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(address: str) -> Metrics:
    """Prometheus metrics served at `address`; no metrics when it is empty."""
    return Prometheus(address) if address else NO_METRICS
