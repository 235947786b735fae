# Grace's Towel: one image for the API and the worker (docker-compose.yml runs both).
#   API (default command): migrate the database, then serve on 0.0.0.0:8000
#   worker:                python worker.py
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

COPY . .
# Bytecode caches in the image (the container writes none): the worker's sandbox imports the
# workflow modules again for every workflow run, and would compile their source each time.
RUN pip install --no-deps . \
    && python -m compileall -q /app \
    && useradd --system --uid 10001 --home-dir /app gracestowel
USER gracestowel

EXPOSE 8000

# Runs from /app, so alembic.ini and models/migrations are found next to the code.
CMD ["sh", "-c", "python -m core.migrate && exec uvicorn --factory api.main:create_app --host 0.0.0.0 --port 8000 --proxy-headers"]
