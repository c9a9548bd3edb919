# The gateway image for docker-compose users. It runs the same commands the README documents:
# `novara migrate` (one-shot service) and `novara serve`.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY db ./db
RUN pip install --no-cache-dir .
# The DB dir is found next to the package in a source checkout; in the image it is /app/db.
ENV NOVARA_DB_DIR=/app/db
EXPOSE 8000
USER nobody
CMD ["novara", "serve"]
