"""One page: "/"."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deliberation.models import JoinRequest
from deliberation.views.definitions import definitions_context
from notifications.models import Notification
from votes import access as votes
from votes.models import Dispute

ITEMS_MAX = 20  # of each kind of item the page lists; the inbox and each ballot's pages hold the rest


def home(request: HttpRequest) -> HttpResponse:
    """The definitions; above them, for a signed-in person, what needs them. An observer sees the list alone."""
    context = definitions_context(request)
    if not request.user.is_authenticated:
        return render(request, "deliberation/definition_list.html", context)
    user = request.user
    needs = {
        "ballots": votes.voting_progress(user),
        "comments": list(
            Notification.objects.for_user(user).unread().about_comments().order_by("-created_at", "-pk")[:ITEMS_MAX]
        ),
        "disputes": list(
            Dispute.objects.standing()
            .over_votes_of(user)
            .with_people()
            .select_related("ballot__definition")
            .order_by("-raised_at", "-pk")[:ITEMS_MAX]
        ),
        "join_requests": list(
            JoinRequest.objects.pending()
            .decided_by(user)
            .select_related("user", "group__definition")
            .order_by("created_at", "pk")[:ITEMS_MAX]
        ),
    }
    return render(request, "home/home.html", context | needs | {"nothing": not any(needs.values())})
