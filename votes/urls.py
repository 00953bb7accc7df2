from django.urls import path

from .views import ballots, feeds, grid, receipts, records

app_name = "votes"

urlpatterns = [
    path("d/<slug:slug>/ballots/", ballots.ballot_list, name="ballot-list"),
    path("d/<slug:slug>/ballots.ics", feeds.ballot_calendar, name="ballot-calendar"),
    path("d/<slug:slug>/ballots.atom", feeds.BallotFeed(), name="ballot-feed"),
    path("calendar/<str:token>.ics", feeds.personal_calendar, name="personal-calendar"),
    path("d/<slug:slug>/ballots/new/", ballots.ballot_create, name="ballot-create"),
    path("d/<slug:slug>/ballots/<slug:key>/", ballots.ballot, name="ballot"),
    path("d/<slug:slug>/ballots/<slug:key>/edit/", ballots.ballot_edit, name="ballot-edit"),
    path("d/<slug:slug>/ballots/<slug:key>/open/", ballots.ballot_open, name="ballot-open"),
    path("d/<slug:slug>/ballots/<slug:key>/close/", ballots.ballot_close, name="ballot-close"),
    path("d/<slug:slug>/ballots/<slug:key>/vote/", grid.vote_grid, name="vote-grid"),
    path("d/<slug:slug>/ballots/<slug:key>/vote/<str:handle>/", grid.vote_grid, name="vote-grid-on-behalf"),
    path(
        "d/<slug:slug>/ballots/<slug:key>/vote/withdraw/<slug:component>/<slug:criterion>/",
        grid.vote_withdraw,
        name="vote-withdraw",
    ),
    path(
        "d/<slug:slug>/ballots/<slug:key>/vote/<str:handle>/withdraw/<slug:component>/<slug:criterion>/",
        grid.vote_withdraw,
        name="vote-withdraw-on-behalf",
    ),
    path("d/<slug:slug>/ballots/<slug:key>/receipts/", receipts.vote_receipts, name="vote-receipts"),
    path(
        "d/<slug:slug>/ballots/<slug:key>/receipts/<slug:component>/<slug:criterion>/",
        receipts.vote_receipt,
        name="vote-receipt",
    ),
    path("d/<slug:slug>/ballots/<slug:key>/roll-call/", records.roll_call, name="roll-call"),
    path("d/<slug:slug>/ballots/<slug:key>/grants/", records.grants, name="grants"),
    path("d/<slug:slug>/ballots/<slug:key>/grants/<int:pk>/revoke/", records.grant_revoke, name="grant-revoke"),
    path("d/<slug:slug>/ballots/<slug:key>/disputes/", records.disputes, name="disputes"),
    path(
        "d/<slug:slug>/ballots/<slug:key>/disputes/<int:pk>/resolve/", records.dispute_resolve, name="dispute-resolve"
    ),
    path("d/<slug:slug>/ballots/<slug:key>/conflicts/", records.conflicts, name="conflicts"),
    path(
        "d/<slug:slug>/ballots/<slug:key>/conflicts/<int:pk>/withdraw/",
        records.conflict_withdraw,
        name="conflict-withdraw",
    ),
]
