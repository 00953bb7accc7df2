from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("audit.urls")),
    path("", include("votes.urls")),
    path("", include("analysis.urls")),
    path("", include("deliberation.urls")),
]
