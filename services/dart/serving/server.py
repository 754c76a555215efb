"""One inference server process: gRPC (+ health, reflection) and the metrics HTTP port.

    server = InferenceServer(ServeOptions(role="scorer", model="models/target"))
    await server.start()            # model loaded, both ports bound, ready file written
    await server.wait_for_signal()  # until SIGTERM / SIGINT
    await server.stop()             # drain: in-flight RPCs finish, new ones get UNAVAILABLE

`dart serve` (dart.cli.serve) is the command-line face of this module.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from dart.config.limits import MAX_REQUEST_BYTES
from dart.errors import UserError
from dart.protos_gen import inference_pb2_grpc as pb_grpc
from dart.serving.backends import create_backend
from dart.serving.metrics import MetricsServer, ServerMetrics
from dart.serving.requests import ServingLimits
from dart.serving.servicers import GeneratorService, ScorerService

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
SERVICE_NAMES = {"generator": "dart.v1.Generator", "scorer": "dart.v1.Scorer"}


@dataclass(frozen=True)
class ServeOptions:
    role: str  # "generator" or "scorer"
    model: str
    backend: str = "auto"
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port, reported by .port and the ready file
    metrics_port: int = 0
    limits: ServingLimits = field(default_factory=ServingLimits)
    drain_seconds: float = 30.0
    ready_file: Path | None = None


class InferenceServer:
    def __init__(self, options: ServeOptions):
        self.options = options
        self.metrics = ServerMetrics(options.role)
        self.health = health.aio.HealthServicer()
        self.port = self.metrics_port = 0
        self._grpc: grpc.aio.Server | None = None
        self._http: MetricsServer | None = None
        self.backend = None

    async def start(self) -> None:
        """Load the model, then open both ports; the ready file comes last. A port that cannot
        be bound is one sentence, and nothing started is left running."""
        opts = self.options
        self.backend = await load_backend(opts, self.metrics)
        try:
            self._open_ports()
            await self._grpc.start()
            self._http.start()
        except BaseException:
            await self._close_after_failed_start()
            raise
        for service in ("", SERVICE_NAMES[opts.role]):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        if opts.ready_file:
            write_ready_file(opts.ready_file, self.ready_info())
        log.info("%s serving %s on %s:%d (metrics :%d)", opts.role, opts.model, opts.host,
                 self.port, self.metrics_port)

    def _open_ports(self) -> None:
        opts = self.options
        self._grpc = self._build_grpc_server()
        try:
            self.port = self._grpc.add_insecure_port(f"{opts.host}:{opts.port}")
        except RuntimeError:  # grpc says only "Failed to bind"; these are the two causes
            raise UserError(f"cannot serve gRPC on {opts.host}:{opts.port}: the port is in use "
                            "or the host is not an address of this machine; choose another "
                            "--port or --host") from None
        try:
            self._http = MetricsServer(self.metrics, opts.host, opts.metrics_port)
        except OSError as error:
            raise UserError(f"cannot serve metrics on {opts.host}:{opts.metrics_port} "
                            f"({error.strerror or error}); choose another --metrics-port or "
                            "--host") from None
        self.metrics_port = self._http.port

    async def _close_after_failed_start(self) -> None:
        if self._grpc is not None:
            await self._grpc.stop(None)
        if self._http is not None:
            self._http.close()
        await self.backend.close()

    def ready_info(self) -> dict:
        return {"port": self.port, "metrics_port": self.metrics_port, "pid": os.getpid(),
                "role": self.options.role, "backend": self.backend.name}

    async def wait_for_signal(self) -> signal.Signals:
        loop, received = asyncio.get_running_loop(), asyncio.Queue()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, received.put_nowait, sig)
        return await received.get()

    async def stop(self, grace_s: float | None = None) -> None:
        """Drain: probes go unhealthy, new RPCs are refused, in-flight ones get `grace_s`."""
        grace = self.options.drain_seconds if grace_s is None else grace_s
        log.info("draining for up to %.0f s", grace)
        self._http.serving = False
        await self.health.enter_graceful_shutdown()
        await self._grpc.stop(grace)
        await self.backend.close()
        self._http.stop()
        if self.options.ready_file:
            Path(self.options.ready_file).unlink(missing_ok=True)

    def _build_grpc_server(self) -> grpc.aio.Server:
        # Requests over MAX_REQUEST_BYTES are refused by grpc (RESOURCE_EXHAUSTED) unread.
        server = grpc.aio.server(options=[("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                                          ("grpc.max_receive_message_length", MAX_REQUEST_BYTES)])
        if self.options.role == "generator":
            pb_grpc.add_GeneratorServicer_to_server(
                GeneratorService(self.backend, self.metrics), server)
        else:
            pb_grpc.add_ScorerServicer_to_server(ScorerService(self.backend, self.metrics), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        services = [SERVICE_NAMES[self.options.role], health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(services, server)
        return server


def write_ready_file(path: Path, info: dict) -> None:
    """Written whole or not at all (tmp + rename): a parent polling it never reads half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info) + "\n")
    os.replace(tmp, path)


async def load_backend(options: ServeOptions, metrics: ServerMetrics):
    """The role's engine with the model loaded; a model that cannot be loaded (missing or
    truncated files, tensors that do not match the config) is the user's to fix."""
    try:
        return await create_backend(options.role, options.model, options.backend,
                                    options.limits, metrics.batch_hooks())
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - every loader failure means the same here
        detail = (str(error).strip().splitlines() or [""])[0][:300]
        raise UserError(f"cannot load the {options.role} model from {options.model} "
                        f"({type(error).__name__}: {detail}); check that the folder holds a "
                        "complete save_pretrained model") from None


async def serve_until_signal(options: ServeOptions) -> None:
    """The whole life of a server process."""
    server = InferenceServer(options)
    await server.start()
    print(json.dumps(server.ready_info()), flush=True)
    received = await server.wait_for_signal()
    log.info("received %s", received.name)
    await server.stop()

