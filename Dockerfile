# syntax=docker/dockerfile:1
# billing-center in a container: one binary (the client embedded), on
# SQLite in the volume by default or on PostgreSQL (docker-compose.yml).
#   docker build -t billing-center .
#   docker run -p 3000:3000 -v billing:/var/lib/billing-center \
#     -v $PWD/billing-center.toml:/etc/billing-center/billing-center.toml:ro billing-center

# Build: only crates.io, npm and Debian's packages are fetched. The same
# script runs in `make test` (its step "release").
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN bash scripts/build_release.sh

# Run: the binary alone, as an unprivileged user. pg_dump / pg_restore for
# `billing-center backup` and `restore` on PostgreSQL 15 (compose's).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/billing-center --create-home billing
COPY --from=build /src/target/release/billing-center /usr/local/bin/billing-center
USER billing
WORKDIR /var/lib/billing-center
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    DATABASE_URL=sqlite:///var/lib/billing-center/billing-center.db \
    BC_CONFIG=/etc/billing-center/billing-center.toml \
    BC_LOG_FORMAT=json
VOLUME /var/lib/billing-center
EXPOSE 3000
# SIGTERM: stop accepting, answer the requests in flight, finish the
# billing run's batch, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/billing-center"]
CMD ["serve"]
