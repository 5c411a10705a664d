# Bookwell's container image: one image for every process. bin/container-entrypoint picks
# the role by the first argument: web (the default), worker, scheduler, release,
# local-stripe. See docs/deploy.md.
#
#   docker build -t bookwell:local .
#
# Every requirement installs from a wheel except two pure-Python source packages
# (localstripe, googlemaps), so no stage needs a compiler; the build stage keeps uv and
# the sources' build steps, the runtime stage gets only the virtualenv and the app.

# The Python the project runs and is tested on (.venv, CI): 3.11.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1

# uv installs the pinned requirements, as `make venv` does; it stays in this stage.
RUN pip install --no-cache-dir uv==0.13.9 \
    && python -m venv /opt/venv

COPY requirements.txt /tmp/requirements.txt
RUN uv pip install --python /opt/venv/bin/python -r /tmp/requirements.txt

WORKDIR /src
COPY . .
# The storefront's catalogues compiled here (make translations), and the app's bytecode:
# the runtime image never writes to its own files.
RUN /opt/venv/bin/pybabel -q compile -d translations \
    && /opt/venv/bin/python -m compileall -q \
        app api views jobs devservices config.py wsgi.py


FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="Bookwell" \
      org.opencontainers.image.description="Bookwell: console, storefront, API, RQ workers and scheduler"

# FAB_UPDATE_PERMS off: web processes never write permission tables, the release does.
# Front-end assets (Flask-AppBuilder's, Swagger UI's) come with their packages in the
# virtualenv; the app's own are in static/ and assets/.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=wsgi \
    FAB_UPDATE_PERMS=False \
    BOOKWELL_INSTANCE_DIR=/var/lib/bookwell \
    PORT=8000 \
    WEB_CONCURRENCY=2

# pg_dump and pg_restore for `flask bookwell backup` and `restore` (docs/deploy.md), of
# the server's major version; the one OS package the runtime installs, no compiler.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric id, so that orchestrators can check runAsNonRoot. The instance folder
# (receipts, pictures and the outbox without S3/SMTP) is the only place it writes.
RUN groupadd --system --gid 10001 bookwell \
    && useradd --system --uid 10001 --gid bookwell --no-create-home \
        --home-dir /var/lib/bookwell --shell /usr/sbin/nologin bookwell \
    && install -d -o bookwell -g bookwell -m 0750 /var/lib/bookwell

COPY --from=build /opt/venv /opt/venv
# Owned by root: the app cannot change its own code.
COPY --from=build /src /app
WORKDIR /app

USER 10001:10001
EXPOSE 8000

# /healthz when this container serves web; the other roles are alive while they run.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/bin/container-healthcheck"]

ENTRYPOINT ["/app/bin/container-entrypoint"]
CMD ["web"]
