"""Gunicorn settings for running the portal in production: `gunicorn -c gunicorn.conf.py`.

Every value can be changed through the environment, as the README's configuration
reference lists.
"""

import os

wsgi_app = "portal:create_app()"
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")

# Requests wait on Salesforce most of the time, so threads serve them well.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# A Salesforce call gives up within about 45 s (read timeout, retries and backoff); a worker
# is only killed well after that.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "75"))
graceful_timeout = 30
keepalive = 5

# Workers are replaced now and then, so a slow leak never takes a process down.
max_requests = 2000
max_requests_jitter = 200

# Sign-in links carry their single-use token in the path: no access log, so it is never
# written down. The load balancer's log has the traffic.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")

if os.environ.get("PORTAL_ENV", "local") != "local":
    # Gunicorn's own lines as JSON too, like the portal's (portal/logs.py).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logs.JsonLines"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False}
        },
    }
