from django.urls import path

from . import views

app_name = "analysis"

urlpatterns = [
    path("d/<slug:slug>/ballots/<slug:key>/results/", views.results, name="results"),
    path("d/<slug:slug>/ballots/<slug:key>/results.csv", views.results_csv, name="results-csv"),
    path("d/<slug:slug>/ballots/<slug:key>/tally.zip", views.tally_download, name="tally-download"),
    path("tally/format/", views.tally_format, name="tally-format"),
    path("tally/plenary-tally.zip", views.verifier_download, name="verifier-download"),
]
