# The gateway image for docker-compose users. It runs the same commands the README documents:
# `novara migrate` (one-shot service, as the owner) and `novara serve` (as the authenticator).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY novara ./novara
COPY db ./db
# A regular (non-editable) install: the SQL of db/ is packaged inside novara (novara/db), so the installed
# package finds it without NOVARA_DB_DIR; the source folders are removed to prove it.
RUN pip install --no-cache-dir . && rm -rf /app/gateway /app/novara /app/db
EXPOSE 8000
USER nobody
CMD ["novara", "serve"]
