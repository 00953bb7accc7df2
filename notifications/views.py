"""The inbox, the e-mail settings and the one-click unsubscribe: thin, the services do the rest."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from . import services
from .forms import NameForm, SettingsForm
from .models import Kind, Notification

PAGE = 50


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications = Notification.objects.for_user(request.user).order_by("-created_at", "-pk")
    page = Paginator(notifications, PAGE).get_page(request.GET.get("page"))
    unread = Notification.objects.for_user(request.user).unread().count()
    return render(request, "notifications/inbox.html", {"page": page, "unread": unread})


@login_required
def unread_count(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The header's badge, fetched by htmx after the page loads, so that no page pays for it."""
    unread = Notification.objects.for_user(request.user).unread().count()
    return render(request, "notifications/_unread.html", {"unread": unread})


@login_required
@require_POST
def read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; with htmx, the row comes back read (and the unread counts with it).

    Without htmx it is the form of the notification's subject (`follow`): the person is taken to its page, read.
    A POST, not a link that marks on GET, so that no prefetch, crawler or forged image marks anything read.
    """
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    services.mark_read(notification=notification, user=request.user)
    if request.htmx:
        unread = Notification.objects.for_user(request.user).unread().count()
        context = {"notification": notification, "unread": unread, "oob": True}
        return render(request, "notifications/_row.html", context)
    if request.POST.get("follow") and url_has_allowed_host_and_scheme(notification.path, allowed_hosts=None):
        return redirect(notification.path)  # a path on this site, as the services wrote it
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    marked = services.mark_all_read(user=request.user)
    messages.success(request, f"{marked} marked read." if marked else "Nothing was unread.")
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Two forms, each with its own button (`save`): the name e-mails greet by, and the mode of each kind."""
    saving = request.POST.get("save", "modes") if request.method == "POST" else None
    user = request.user
    name_form = NameForm(
        request.POST if saving == "name" else None, initial={"first_name": user.first_name, "last_name": user.last_name}
    )
    form = SettingsForm(request.POST if saving == "modes" else None, user=user)
    if name_form.is_valid():
        services.set_display_name(user=user, **name_form.cleaned_data)
        messages.success(request, _("Your name is saved."))
        return redirect("notifications:settings")
    if form.is_valid():
        services.set_modes(user=user, modes=form.cleaned_data)
        messages.success(request, _("Your e-mail settings are saved."))
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form, "name_form": name_form})


@csrf_exempt  # RFC 8058: the mail provider posts the one-click form; the signed token is the authority
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = services.read_unsubscribe_token(token)
    if found is None:
        raise Http404("This unsubscribe link is not one Plenary wrote.")
    kind = Kind(found[1])
    if request.method == "POST":
        services.unsubscribe(token)
        return render(request, "notifications/unsubscribed.html", {"kind": kind})
    return render(request, "notifications/unsubscribe.html", {"kind": kind, "token": token})
