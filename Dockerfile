# syntax=docker/dockerfile:1
# 信贷客服助手: one image for every workload (docs/deployment.md). ENTRYPOINT is `python -m`, so the
# arguments name the entry point:
#   docker run IMAGE                                   Rasa server (python -m server run, the CMD below)
#   docker run IMAGE server actions --actions actions  action server (set ACTION_HOST=0.0.0.0 in a container)
#   docker run IMAGE ops serve --host 0.0.0.0          ops console
#   docker run IMAGE outreach run                      outreach worker
#   docker run IMAGE credit.seed                       creates the tables (and demo data into an EMPTY database)
#   docker run IMAGE server.purge                      retention purge
# The model is mounted, not baked in: /app/models is where the model store goes
# (models/production/model.tar.gz). `python -m ops promote` swaps that file and a rolling restart (or a reload)
# serves it; a baked model would need an image build per model, CI here cannot train one, and a rollback would
# mean finding the old image instead of the model the promote history keeps.
# Secrets are never in a layer: .dockerignore admits only the project's code and data, and every secret comes
# from the environment at run time (Kubernetes Secret, `docker run --env-file`).
# Built for linux/amd64: the hashes of deploy/docker/requirements.lock are of the x86_64 wheels.
# Base: CPython 3.10.13 on Debian 12 (bookworm), spelled out in both stages (not an ARG) so that every scanner
# sees the exact tag.
FROM python:3.10.13-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY deploy/docker/build.lock deploy/docker/requirements.lock /tmp/lock/
# Every file is checked against its hash (--require-hashes); the lock is complete, so --no-deps. The build
# backend comes first (hashed too) and the lock's few pure-Python sdists build against it without build isolation,
# which would otherwise fetch an unhashed setuptools.
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/lock/build.lock \
 && /opt/venv/bin/pip install --require-hashes --no-deps --no-build-isolation -r /tmp/lock/requirements.lock
WORKDIR /app
COPY . /app
# The project itself, editable at /app exactly as in .venv (its code finds config.yml, domain/ and data/ from
# its own location); its dependencies are the lock above.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation -e /app \
 && /opt/venv/bin/python -c "import rasa, rasa_sdk, actions, connectors, credit, nlu_components, ops, outreach, server"

FROM python:3.10.13-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="credit-assistant" \
      org.opencontainers.image.description="信贷客服助手: Rasa 3.6 server, action server, ops console, outreach worker" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    RASA_TELEMETRY_ENABLED=false \
    HARDENING_MODE=production
# One unprivileged user; the code belongs to root and is read-only for it. Writable: /tmp (model unpacking,
# jieba's cache, HOME) and /app/var (channel state, SQLite defaults), plus, for the ops console only, the model
# store, results/, .rasa/ (training cache) and the ops training data (data/nlu/ops, data/regression).
RUN groupadd --system --gid 10001 credit \
 && useradd --system --uid 10001 --gid credit --no-create-home --home-dir /tmp --shell /usr/sbin/nologin credit
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
RUN mkdir -p var models/production results .rasa data/nlu/ops \
 && chown -R 10001:10001 var models results .rasa data/nlu/ops data/regression
USER 10001:10001
EXPOSE 5005 5055 5010
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "deploy/docker/healthcheck.py"]
ENTRYPOINT ["python", "-m"]
CMD ["server", "run", "--model", "models/production/model.tar.gz", "--enable-api", "--port", "5005", \
     "--endpoints", "deploy/endpoints.scaleout.yml", "--credentials", "credentials.yml"]
