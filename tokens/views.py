"""A person's API tokens: the page that lists, makes and revokes them. Thin: the services do the rest."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from . import services
from .access import get_own_token
from .forms import TokenForm
from .models import AccessToken


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The list and the form. A new token's secret is shown on this answer only: it is not kept, so the page is
    answered here, never redirected, and nothing may keep a copy of it."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    secret = ""
    if form.is_valid():
        try:
            token, secret = services.create_token(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = TokenForm()
    tokens = AccessToken.objects.filter(user=request.user)
    response = render(request, "tokens/token_list.html", {"form": form, "tokens": tokens, "secret": secret})
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = services.revoke_token(token=get_own_token(request.user, pk), acting_user=request.user)
    messages.success(request, f"The token “{token.name}” no longer works; anything using it is refused from now on.")
    return redirect("tokens:token-list")
