"""The trivial view that vote casting is measured against: the same request, one INSERT."""

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

TABLE = "bench_insert"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, user_id bigint, body text, at timestamptz)"


@login_required
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    """Through the same middleware as a vote (session, user, CSRF), then one row in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (user_id, body, at) VALUES (%s, %s, now())",
            [request.user.pk, request.POST.get("choice", "")],
        )
    return HttpResponse(status=204)
