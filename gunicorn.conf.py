"""gunicorn's settings for the web processes (compose.yaml and the Dockerfile
run `gunicorn -c gunicorn.conf.py commerce.asgi:application`); each can be
overridden by the environment.

A deploy loses no request: on SIGTERM gunicorn stops accepting, each
uvicorn worker finishes the requests it has within `graceful_timeout`
seconds, and closes its WebSockets with 1012 (service restart), on which
the storefront's client reconnects, to another process.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "uvicorn_worker.UvicornWorker"
# Seconds a worker has, once told to stop, to finish what it is answering.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # our own line: commerce.requests
