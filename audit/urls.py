from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.log, name="log"),
    # The transparency log, at stable addresses that witnesses and observers' tools call (docs/audit-log.md).
    path("audit/log/", views.checkpoints_page, name="checkpoints"),
    path("audit/log/checkpoints.json", views.checkpoints_json, name="checkpoints-json"),
    path("audit/log/checkpoint", views.checkpoint, name="checkpoint"),
    path("audit/log/consistency.json", views.consistency_json, name="consistency-json"),
    path("audit/log/inclusion.json", views.inclusion_json, name="inclusion-json"),
    path("audit/log/cosignatures.json", views.cosignatures, name="cosignatures"),
    path("audit/log/key", views.log_key, name="key"),
]
