"""A throwaway S3 endpoint for tests: moto's threaded server on a random loopback port."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
TEST_REGION = "us-east-1"


@contextlib.contextmanager
def running_s3_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 with a free port, yield its endpoint URL, stop it after."""
    from moto.server import ThreadedMotoServer

    # moto reads these when it signs nothing but still wants a default account/region.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)
    os.environ.setdefault("AWS_DEFAULT_REGION", TEST_REGION)
    access_log = logging.getLogger("werkzeug")  # one line per request drowns test output
    old_level = access_log.level
    access_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        # stop() joins request threads that clients' keep-alive connections hold open for
        # tens of seconds; the server thread is a daemon, so let it go without waiting.
        threading.Thread(target=server.stop, daemon=True).start()
        access_log.setLevel(old_level)
