from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from .api import api

# The admin's own sign-in would skip allauth's rate limits: staff sign in on the site's page, like everyone.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's documented recipe

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the footer's language switcher posts here
    path("", include("home.urls")),
    path("", include("audit.urls")),
    path("", include("votes.urls")),
    path("", include("analysis.urls")),
    path("", include("notifications.urls")),
    path("", include("deliberation.urls")),
]
