"""Prometheus metrics and the `/healthz` probe, on an HTTP port apart from gRPC.

Names are `dart_<role>_*` (role = generator or scorer), one registry per server:

    dart_<role>_requests_total{method,code}     finished RPCs by status code
    dart_<role>_request_seconds{method}         RPC latency (histogram)
    dart_<role>_tokens_in_total                 prompt tokens (scorer: prompt + completion)
    dart_<role>_tokens_out_total                generated tokens (scorer: scored tokens)
    dart_<role>_batch_rows                      rows per forward batch (histogram; hf only,
                                                vLLM schedules its own batches)
    dart_<role>_batch_seconds                   forward batch latency (histogram; hf only)
    dart_<role>_queue_depth                     rows waiting for a batch (vllm: rows in the
                                                engine)
    dart_<role>_inflight_requests               RPCs being served
    dart_<role>_weights_info{version,kind}      1 for the loaded weights, else absent
    dart_<role>_weights_loads_total{outcome}    LoadWeights calls: ok / rejected
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    def __init__(self, role: str):
        self.registry = CollectorRegistry()
        prefix, reg = f"dart_{role}", self.registry
        self.requests = Counter(f"{prefix}_requests", "Finished RPCs", ["method", "code"],
                                registry=reg)
        self.request_seconds = Histogram(f"{prefix}_request_seconds", "RPC latency", ["method"],
                                         buckets=LATENCY_BUCKETS, registry=reg)
        self.tokens_in = Counter(f"{prefix}_tokens_in", "Input tokens", registry=reg)
        self.tokens_out = Counter(f"{prefix}_tokens_out", "Output tokens", registry=reg)
        self.batch_rows = Histogram(f"{prefix}_batch_rows", "Rows per forward batch",
                                    buckets=BATCH_BUCKETS, registry=reg)
        self.batch_seconds = Histogram(f"{prefix}_batch_seconds", "Forward batch latency",
                                       buckets=LATENCY_BUCKETS, registry=reg)
        self.queue_depth = Gauge(f"{prefix}_queue_depth", "Rows waiting for a batch",
                                 registry=reg)
        self.inflight = Gauge(f"{prefix}_inflight_requests", "RPCs being served", registry=reg)
        self.weights_info = Gauge(f"{prefix}_weights_info", "1 for the loaded weights",
                                  ["version", "kind"], registry=reg)
        self.weights_loads = Counter(f"{prefix}_weights_loads", "LoadWeights calls",
                                     ["outcome"], registry=reg)

    def batch_hooks(self) -> dict:
        """Callbacks for DynamicBatcher."""
        return {"on_batch": self._observe_batch, "on_queue_depth": self.queue_depth.set}

    def set_weights(self, version: str, kind: str) -> None:
        self.weights_info.clear()
        self.weights_info.labels(version=version, kind=kind).set(1)

    def _observe_batch(self, rows: int, seconds: float) -> None:
        self.batch_rows.observe(rows)
        self.batch_seconds.observe(seconds)


class MetricsServer:
    """/metrics for Prometheus, /healthz (200 while serving, 503 once draining) for probes."""

    def __init__(self, metrics: ServerMetrics, host: str, port: int):
        self.serving = True
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self, metrics.registry))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="dart-metrics")

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def close(self) -> None:
        """Release the port of a server that was never started."""
        self._httpd.server_close()


def _handler_for(server: MetricsServer, registry: CollectorRegistry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = server.serving
                self._reply(200 if ok else 503, b"ok\n" if ok else b"draining\n", "text/plain")
            else:
                self._reply(404, b"try /metrics or /healthz\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            """Scrapes every few seconds would flood the server log."""

    return Handler
