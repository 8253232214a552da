#!/bin/sh
# Seeds an empty knowledge volume (a fresh bind mount) with the bundled answers, then runs CMD.
set -eu
if [ -z "$(ls -A "$KNOWLEDGE_DIR" 2>/dev/null)" ]; then
    echo "whytwitter: $KNOWLEDGE_DIR is empty; copying the bundled knowledge base into it" >&2
    cp -r /app/knowledge/. "$KNOWLEDGE_DIR"/
fi
exec "$@"
