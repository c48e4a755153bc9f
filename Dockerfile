# syncq image: bin/syncq (producer + ops CLI) and bin/syncq-worker.
#   docker build -t syncq .        (docker-compose.yml does this for you)

# --- build stage: the same build packages as `make` uses on a developer machine
FROM debian:12.8-slim AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN sh scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY Makefile ./
COPY common/ common/
COPY worker/ worker/
COPY producer/ producer/
COPY schema/ schema/
COPY scripts/ scripts/
# (schema/ is embedded into bin/syncq by the Makefile; the runtime image needs no SQL files)
RUN make clean && make -j"$(nproc)" all

# --- runtime stage: only the shared libraries the binaries link against
# (tests/it/compose_test.sh checks this list against ldd of the binaries)
FROM debian:12.8-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libhiredis0.14 libcjson1 libpq5 libcurl4 libmicrohttpd12 libcrypt1 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin syncq
COPY --from=build /src/bin/syncq /src/bin/syncq-worker /usr/local/bin/
USER syncq:syncq
# /metrics and /healthz on the container interface, for a scrape config and the health check
ENV SYNCQ_METRICS_ADDR=0.0.0.0:9464
EXPOSE 9464
# No curl in the image: the CLI asks the master itself (exit 0 healthy, 1 not).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["syncq", "healthcheck", "--quiet"]
STOPSIGNAL SIGTERM
CMD ["syncq-worker"]
