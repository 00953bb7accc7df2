from django.urls import path

from . import decision_views, views

app_name = "analysis"

urlpatterns = [
    path("d/<slug:slug>/ballots/<slug:key>/results/", views.results, name="results"),
    path("d/<slug:slug>/ballots/<slug:key>/results.csv", views.results_csv, name="results-csv"),
    path("d/<slug:slug>/ballots/<slug:key>/tally.zip", views.tally_download, name="tally-download"),
    path("d/<slug:slug>/ballots/<slug:key>/decisions/", decision_views.decision_list, name="decision-list"),
    path(
        "d/<slug:slug>/ballots/<slug:key>/decisions/<int:number>/objections/",
        decision_views.objection_lodge,
        name="objection-lodge",
    ),
    path(
        "d/<slug:slug>/ballots/<slug:key>/objections/<int:pk>/answer/",
        decision_views.objection_answer,
        name="objection-answer",
    ),
    path("tally/format/", views.tally_format, name="tally-format"),
    path("tally/plenary-tally.zip", views.verifier_download, name="verifier-download"),
]
