# The portal behind gunicorn, run as a user without privileges. All configuration comes from
# the environment (.env.example lists it); TLS ends at the load balancer in front.
FROM python:3.11-slim AS build
RUN python -m venv /venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY portal portal
COPY salesforce salesforce
RUN /venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin portal
COPY --from=build /venv /venv
WORKDIR /app
COPY gunicorn.conf.py ./
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_ENV=production \
    PORT=8000
USER portal
EXPOSE 8000
# Liveness only: /health/live asks nothing of Salesforce.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/health/live', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
