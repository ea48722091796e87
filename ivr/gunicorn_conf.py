"""gunicorn settings for the Procfile's web process.

Each webhook is a few milliseconds of work and one short database transaction, so a few
threads per worker carry many callers. gunicorn's `timeout` restarts a worker whose main
loop stops answering; in a gthread worker it does not end a slow request, so it is no
promise to a caller (a deadline of the application's own is).
"""

import atexit
import logging
import os
import queue
import sys
from logging.handlers import QueueHandler, QueueListener

from ivr import privacy
from ivr.app import startup_problem

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("IVR_WEB_THREADS", "8"))
worker_class = "gthread"
timeout = 10
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
# The request line and status only: our URLs carry nothing personal, and no form data is logged
# (From and To are form fields). Only the request line is masked (privacy.AccessLogMasking).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker: object) -> None:
    worker_logs()


def worker_logs() -> QueueListener:
    """gunicorn's loggers get their handlers after the config is read: masked here, and the access log's lines
    written behind the requests. The listener that writes them is returned (its `stop` writes what is left)."""
    privacy.install(logging.getLogger("gunicorn.error"))
    privacy.install_access_log(logging.getLogger("gunicorn.access"))
    return write_behind(logging.getLogger("gunicorn.access"))


def write_behind(logger: logging.Logger) -> QueueListener:
    """The logger's lines written by a thread of their own, the request threads only queueing them.

    A line a request: with eight threads each waiting on stdout's lock in turn to write its own, the access
    log was over a quarter of a worker's time under load. Lines are masked before they are queued (the
    logger's filters run in the request's thread), and the queue is emptied as the worker exits."""
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(lines, *logger.handlers, respect_handler_level=True)
    logger.handlers = [QueueHandler(lines)]
    listener.start()
    atexit.register(listener.stop)
    return listener


def on_starting(server: object) -> None:
    # Checked once in the master, before any worker boots: a bad setting is then one line and exit
    # status 2, not a traceback per worker ending in "Worker failed to boot".
    problem = startup_problem()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
