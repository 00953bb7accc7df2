from allauth.account.decorators import secure_admin_login
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.urls import include, path

from . import api as api_views
from .api import api

# The admin's own sign-in would skip allauth's rate limits: staff sign in on the site's page, like everyone.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's documented recipe
# Sign-in providers come from the environment alone (config/sso.py), and no provider's tokens are stored: the admin
# offers neither. The linked accounts ("Social accounts") stay, for a superuser to see who linked what.
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api_views.index, name="api-index"),  # before ninja's own root, which is an HTML 404
    path("api/", api.urls),
    path("api/<path:rest>", api_views.not_found, name="api-not-found"),  # after every endpoint: a JSON 404
    path("", include("tokens.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the footer's language switcher posts here
    path("", include("home.urls")),
    path("", include("audit.urls")),
    path("", include("votes.urls")),
    path("", include("analysis.urls")),
    path("", include("notifications.urls")),
    path("", include("search.urls")),
    path("", include("deliberation.urls")),
]
