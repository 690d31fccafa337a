"""gunicorn's configuration for ``veche serve`` (``gunicorn -c python:veche.config.gunicorn``).

Worker model (decision 0074): gthread workers, one process per core, 8 threads each.
Pages are CPU-bound Python, so one process per core uses every core; threads let a
worker go on serving pages while some of its requests wait for the server's hashing
budget (core.hashers) instead of blocking the whole worker as a sync worker would.

Logs (decision 0075): no access log; the error log goes to stderr through veche's
filter, so it keeps the server's own life and server errors, never a request's path,
origin or address. No ``Server`` header.

``veche serve`` passes the bind address and the numbers of workers and threads on the
command line; everything else is here. Importing this module must not configure Django.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.http import wsgi as gunicorn_wsgi

from veche.apps.core.logging import NoContentFormatter, RedactSecretsFilter

worker_class = "gthread"
workers = os.cpu_count() or 2
threads = 8
# Keep-alive lets a browser (or Tor) reuse a connection; gthread parks idle ones in its
# poller, so they hold no thread.
keepalive = 5
timeout = 30
graceful_timeout = 20
# gunicorn's own limits on what it parses, stated here so tests can rely on them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = None
errorlog = "-"
loglevel = "info"
logger_class = "veche.config.gunicorn.VecheLogger"
# Behind an onion service or a reverse proxy on this machine.
forwarded_allow_ips = "127.0.0.1"
# gunicorn 27 otherwise opens a control socket in the operator's home directory.
control_socket_disable = True


# The collector's first generation is collected after this many new container objects
# (Python's default: 700). A page makes thousands, so with the default nearly every
# request ran a collection, and every tenth of those a deeper one (decision 0143).
GC_THRESHOLD = (10_000, 10, 10)


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded veche: leave what loading made out of every collection
    (modules, settings, compiled statements live as long as the worker), and collect the
    young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


class VecheLogger(Logger):
    """gunicorn's logger with no access log and veche's filter on the error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(RedactSecretsFilter())
            handler.setFormatter(
                NoContentFormatter("%(asctime)s [%(process)d] [%(levelname)s] %(message)s")
            )
        self.access_log.handlers.clear()
        self.access_log.addHandler(logging.NullHandler())
        self.access_log.propagate = False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


_default_headers = gunicorn_wsgi.Response.default_headers


def _headers_without_server(self: Any) -> list[str]:
    # "Server: gunicorn" tells a visitor what runs here; nothing needs it.
    return [h for h in _default_headers(self) if not h.lower().startswith("server:")]


gunicorn_wsgi.Response.default_headers = _headers_without_server  # type: ignore[method-assign]
