# Plenary's web and worker image: `docker compose up` runs both from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(d for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'] if not d.startswith('plenary-tally')))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. Editable, so settings find templates/ and static/ next to the code.
COPY . .
RUN pip install --no-deps -e ./tally -e .

# Static files are collected at build time. The settings demand a secret and a database even for
# this; the dummy values below exist for this one step and are not part of the image's environment.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

RUN useradd --system --create-home --uid 10001 plenary
USER plenary

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
