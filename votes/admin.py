"""Read-only: every change to ballots, grants, votes, disputes and conflicts goes through the audited pages."""

from django.contrib import admin

from deliberation.admin import ReadOnlyAdmin

from .models import Ballot, ConflictDeclaration, Dispute, VetoGrant, Vote


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ["title", "definition", "version", "status", "results_visibility"]


@admin.register(VetoGrant)
class VetoGrantAdmin(ReadOnlyAdmin):
    list_display = ["ballot", "choice", "group", "member", "category", "granted_at", "revoked_at"]


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["ballot", "voter", "component", "criterion", "choice", "cast_at"]
    list_filter = ["ballot"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["ballot", "raised_by", "status", "raised_at"]


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(ReadOnlyAdmin):
    list_display = ["ballot", "member", "component", "declared_at", "withdrawn_at"]
