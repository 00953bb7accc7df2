from django.urls import path

from . import views

app_name = "tokens"

urlpatterns = [
    path("settings/tokens/", views.token_list, name="token-list"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
