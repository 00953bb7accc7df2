"""Who may see and manage a definition's webhooks: its organizers, and nobody else, not even to learn one exists.

The webhook pages (deliberation/views/webhooks.py) and the services ask here. A webhook or delivery is looked up
within the definition at whose address it is asked, so an id of another definition's is a 404, like one of nothing.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Webhook, WebhookDelivery

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

REFUSED = "Only the definition's organizers manage its webhooks."


def may_manage_webhooks(definition, user: "User | AnonymousUser") -> bool:
    return user.is_authenticated and definition.is_organizer(user)


def require_webhook_manager(definition, user: "User | AnonymousUser") -> None:
    """The list and the form of a public definition: 403 for whoever is not its organizer."""
    if not may_manage_webhooks(definition, user):
        raise PermissionDenied(REFUSED)


def get_webhook(definition, user: "User | AnonymousUser", pk: int) -> Webhook:
    """One webhook of the definition: 404 for anyone but its organizers, and for an id that is not its."""
    if not may_manage_webhooks(definition, user):
        raise Http404("No such webhook.")
    webhook = Webhook.objects.filter(definition=definition, pk=pk).first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


def get_delivery(webhook: Webhook, pk: int) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery
