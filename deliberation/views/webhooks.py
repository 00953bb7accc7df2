"""A definition's webhooks, for its organizers: list, register, change, rotate the secret, remove, and the delivery
log with its redeliver button. Thin: the gates are `notifications.access`, the writes `notifications.webhooks`.

A secret is shown on the answer that makes it (registering, rotating) and never again, so those answers are pages,
not redirects, and no cache keeps them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest
from notifications import access, webhooks
from notifications.forms import WebhookForm
from notifications.models import WEBHOOKS_PER_DEFINITION, Webhook, WebhookDelivery

from ..access import get_definition

LOG = 50  # deliveries the webhook's page lists, newest first


def _secret_page(request: AuthenticatedHttpRequest, webhook: Webhook, *, rotated: bool) -> HttpResponse:
    response = render(
        request,
        "deliberation/webhook_secret.html",
        {"definition": webhook.definition, "webhook": webhook, "secret": webhook.secret, "rotated": rotated},
    )
    add_never_cache_headers(response)
    return response


@login_required
def webhook_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = get_definition(slug)
    access.require_webhook_manager(definition, request.user)
    hooks = Webhook.objects.filter(definition=definition).annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        waiting=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
    )
    context = {"definition": definition, "webhooks": hooks, "limit": WEBHOOKS_PER_DEFINITION}
    return render(request, "deliberation/webhook_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    definition = get_definition(slug)
    access.require_webhook_manager(definition, request.user)
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            webhook = webhooks.add_webhook(definition=definition, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _secret_page(request, webhook, rotated=False)
    return render(request, "deliberation/webhook_form.html", {"definition": definition, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def webhook(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The webhook's settings, as a form, and its delivery log."""
    definition = get_definition(slug)
    hook = access.get_webhook(definition, request.user, pk)
    initial = {"url": hook.url, "events": hook.events, "active": hook.active}
    form = WebhookForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        try:
            webhooks.change_webhook(webhook=hook, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The webhook is saved.")
            return redirect("deliberation:webhook", slug, hook.pk)
    deliveries = hook.deliveries.prefetch_related("attempt_log").order_by("-created_at", "-pk")[:LOG]
    context = {"definition": definition, "webhook": hook, "form": form, "deliveries": deliveries}
    return render(request, "deliberation/webhook.html", context)


@login_required
@require_POST
def webhook_rotate(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    hook = access.get_webhook(get_definition(slug), request.user, pk)
    return _secret_page(request, webhooks.rotate_webhook_secret(webhook=hook, acting_user=request.user), rotated=True)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    definition = get_definition(slug)
    hook = access.get_webhook(definition, request.user, pk)
    if request.method == "POST":
        webhooks.remove_webhook(webhook=hook, acting_user=request.user)
        messages.success(request, f"The webhook to {hook.host} is removed, with its delivery log.")
        return redirect("deliberation:webhook-list", slug)
    return render(request, "deliberation/webhook_delete.html", {"definition": definition, "webhook": hook})


@login_required
def webhook_delivery(request: AuthenticatedHttpRequest, slug: str, pk: int, delivery: int) -> HttpResponse:
    """One delivery: the body sent and each attempt, as the receiver answered it."""
    definition = get_definition(slug)
    hook = access.get_webhook(definition, request.user, pk)
    found = access.get_delivery(hook, delivery)
    context = {"definition": definition, "webhook": hook, "delivery": found, "attempts": found.attempt_log.all()}
    return render(request, "deliberation/webhook_delivery.html", context)


@login_required
@require_POST
def webhook_redeliver(request: AuthenticatedHttpRequest, slug: str, pk: int, delivery: int) -> HttpResponse:
    hook = access.get_webhook(get_definition(slug), request.user, pk)
    found = access.get_delivery(hook, delivery)
    try:
        again = webhooks.redeliver(delivery=found, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("deliberation:webhook", slug, hook.pk)
    messages.success(request, f"Redelivery queued: {again.get_status_display().lower()}.")
    return redirect("deliberation:webhook-delivery", slug, hook.pk, again.pk)
