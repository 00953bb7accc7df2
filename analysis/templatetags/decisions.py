"""`{% decisions_summary ballot %}`: the decisions that stand on a ballot, where its results are shown."""

from django import template

from votes.models import Ballot

register = template.Library()


@register.inclusion_tag("analysis/_decisions_summary.html")
def decisions_summary(ballot: Ballot) -> dict:
    standing = ballot.decisions.current().select_related("component").order_by("component__key", "number")
    return {"ballot": ballot, "definition": ballot.definition, "standing": list(standing)}
