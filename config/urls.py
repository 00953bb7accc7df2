from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("", include("audit.urls")),
    path("", include("votes.urls")),
    path("", include("analysis.urls")),
    path("", include("deliberation.urls")),
]
