from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [path("d/<slug:slug>/ballots/<slug:key>/results/", views.results, name="results")]
