# Plenary's web and worker image: `docker compose up` runs both from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# GNU gettext's msgfmt compiles the translations (locale/*/LC_MESSAGES/django.po) below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(d for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'] if not d.startswith('plenary-tally')))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. Editable, so settings find templates/ and static/ next to the code.
COPY . .
RUN pip install --no-deps -e ./tally -e .

# Static files are collected and the translations compiled at build time. The settings demand a secret, a database
# and the audit log's signing key even for this; the dummy values below exist for this one step (the key signs
# nothing) and are not part of the image's environment.
RUN export SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 ALLOWED_HOSTS=localhost \
        AUDIT_LOG_KEY=PRIVATE+KEY+build.invalid+00000000+AA \
    && python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore '.*' --ignore tally --ignore tests --ignore bench

RUN useradd --system --create-home --uid 10001 plenary
USER plenary

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
