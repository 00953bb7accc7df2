"""A person's secret calendar address: the page that makes, replaces and revokes it.

The calendar at that address is the votes app's (`votes.views.feeds.personal_calendar`): it lists ballots.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.http import AuthenticatedHttpRequest

from .. import services
from ..models import CalendarToken


@login_required
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = CalendarToken.objects.filter(user=request.user).first()
    return render(request, "deliberation/calendar.html", {"current": current})


@login_required
@require_POST
def calendar_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new address, shown on this answer only: it is not kept, so the page is answered here, never redirected."""
    token = services.create_calendar_token(user=request.user)
    address = request.build_absolute_uri(reverse("votes:personal-calendar", args=[token]))
    response = render(
        request,
        "deliberation/calendar.html",
        {
            "current": CalendarToken.objects.get(user=request.user),
            "address": address,
            "webcal": "webcal://" + address.split("://", 1)[1],
        },
    )
    add_never_cache_headers(response)  # nothing keeps a copy of the page with the address
    return response


@login_required
@require_POST
def calendar_revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    if services.revoke_calendar_token(user=request.user):
        messages.success(request, _("Your calendar address no longer works; calendars subscribed to it stop updating."))
    else:
        messages.info(request, _("You had no calendar address."))
    return redirect("deliberation:calendar")
