"""gunicorn settings for the Procfile's web process, fitted to Twilio's 15-second webhook limit.

Each webhook is a few milliseconds of work and one short database transaction, so a
few threads per worker carry many callers; a request still running at 10 seconds is
stuck, and ending it leaves Twilio time to use the fallback URL instead of silence.
"""

import logging
import os

from ivr import privacy

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("IVR_WEB_THREADS", "8"))
worker_class = "gthread"
timeout = 10
graceful_timeout = 10
keepalive = 5
accesslog = "-"
errorlog = "-"
# The request line and status only: our URLs carry nothing personal, and no form data is logged.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker: object) -> None:
    # gunicorn's loggers get their handlers after the config is read: mask them here.
    privacy.install(logging.getLogger("gunicorn.access"), logging.getLogger("gunicorn.error"))
