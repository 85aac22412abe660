"""A minimal Flask page, served by gunicorn exactly as the portal is: the floor for the
server-time benchmark. It reports its time in the same Server-Timing shape."""

import time

from flask import Flask, g

app = Flask(__name__)


@app.before_request
def start_clock():
    g.started = time.perf_counter()
    g.cpu_started = time.thread_time()


@app.get("/")
def hello():
    return "<!doctype html><title>Hello</title><p>Hello, partner.</p>"


@app.after_request
def report_time(response):
    total_ms = (time.perf_counter() - g.started) * 1000
    cpu_ms = (time.thread_time() - g.cpu_started) * 1000
    response.headers["Server-Timing"] = (
        f"total;dur={total_ms:.3f}, salesforce;dur=0.000, org;dur=0.000, cpu;dur={cpu_ms:.3f}"
    )
    return response
