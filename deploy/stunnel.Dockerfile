# stunnel.Dockerfile - the TLS sidecar image of docker-compose.yml's "redis-tls" service
# (profile "tls"): Debian's stunnel4, run as an unprivileged user with the config in
# deploy/stunnel-redis.conf.
FROM debian:12.8-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends stunnel4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin stunnel
USER stunnel:stunnel
CMD ["stunnel4", "/etc/stunnel/redis.conf"]
