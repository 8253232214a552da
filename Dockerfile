# whytwitter-bot container: `make image`, then `docker compose up -d` (see README "Container").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KNOWLEDGE_DIR=/srv/whytwitter/knowledge \
    DATA_DIR=/srv/whytwitter/data

# A system user that owns only its two volumes; the code itself stays read-only to it.
RUN groupadd --system whytwitter \
    && useradd --system --gid whytwitter --home-dir /srv/whytwitter --shell /usr/sbin/nologin whytwitter

WORKDIR /app
# Dependencies first (a layer that changes only with pyproject.toml / constraints.txt).
COPY pyproject.toml constraints.txt README.md ./
COPY bot/__init__.py bot/__init__.py
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && rm -rf /root/.cache
COPY bot bot
COPY knowledge knowledge
COPY deploy/container-entrypoint.sh /usr/local/bin/whytwitter-entrypoint
RUN mkdir -p "$KNOWLEDGE_DIR" "$DATA_DIR" \
    && cp -r knowledge/. "$KNOWLEDGE_DIR"/ \
    && chown -R whytwitter:whytwitter /srv/whytwitter \
    && chmod 0755 /usr/local/bin/whytwitter-entrypoint

USER whytwitter
VOLUME ["/srv/whytwitter/knowledge", "/srv/whytwitter/data"]

# Healthy only while the gateway connection is up (the bot refreshes DATA_DIR/health.json).
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

ENTRYPOINT ["whytwitter-entrypoint"]
CMD ["python", "-m", "bot", "run"]
