"""A grant's holder and a dispute's selection, each written out by its model alone, byte for byte as before.

The audit events of grants and disputes are hashed over their canonical JSON, and bundles already
downloaded carry them: these tests pin those bytes, ballot.json's shape and the API's, so moving the
serialisation onto the models (`VetoGrant.as_recorded()`, `Dispute.as_recorded()`, …) changed none of them.
"""

from django.urls import reverse

from analysis.bundles import ballot_json
from audit.models import AuditEvent
from plenary_tally import chain
from plenary_tally.chain import canonical_json
from votes import services


def payload_bytes(action: str) -> str:
    return canonical_json(AuditEvent.objects.filter(action=action).order_by("-pk").first().payload)


def api(client, ballot, what: str) -> list[dict]:
    response = client.get(f"/api/definitions/{ballot.definition.slug}/ballots/{ballot.key}/{what}")
    assert response.status_code == 200
    return response.json()["items"]


def test_a_group_grant_is_recorded_exported_and_served_as_before(client, ballot, olga, group, not_necessary):
    grant = services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter §3", acting_user=olga)
    made = grant.granted_at.isoformat()
    services.revoke_grant(grant=grant, reason="Charter changed", acting_user=olga)
    grant.refresh_from_db()
    revoked = grant.revoked_at.isoformat()

    assert payload_bytes("grant.made") == (
        '{"category":null,"choice":"not-necessary","granted_at":"' + made + '","holder":"weights",'
        '"holder_kind":"group","reason":"Charter §3","revoked_at":null}'
    )
    assert payload_bytes("grant.revoked") == (
        '{"category":null,"choice":"not-necessary","granted_at":"' + made + '","holder":"weights",'
        '"holder_kind":"group","reason":"Charter §3","revoke_reason":"Charter changed",'
        '"revoked_at":"' + revoked + '","used_by_votes":0}'
    )
    assert ballot_json(ballot)["grants"] == [
        {
            "holder": "weights",
            "holder_kind": "group",
            "choice": "not-necessary",
            "category": None,
            "reason": "Charter §3",
            "granted_by": "olga",
            "granted_at": made,
            "revoked_at": revoked,
        }
    ]
    assert api(client, ballot, "grants")[0]["holder"] == {"group": "weights", "member": None}
    assert (str(grant), grant.holder_label) == ("Not necessary for group weights", "group weights")


def test_a_member_grant_names_the_member_with_an_at_in_the_log_only(client, ballot, olga, dave, not_necessary):
    grant = services.grant_veto(
        ballot=ballot, choice=not_necessary, member=dave, category="Data", reason="Data steward", acting_user=olga
    )

    assert payload_bytes("grant.made") == (
        '{"category":"Data","choice":"not-necessary","granted_at":"' + grant.granted_at.isoformat() + '",'
        '"holder":"@dave","holder_kind":"member","reason":"Data steward","revoked_at":null}'
    )
    [exported] = ballot_json(ballot)["grants"]
    assert (exported["holder"], exported["holder_kind"], exported["category"]) == ("dave", "member", "Data")
    assert api(client, ballot, "grants")[0]["holder"] == {"group": None, "member": "dave"}
    assert (str(grant), grant.holder_label) == ("Not necessary for @dave", "@dave")


def test_a_dispute_is_recorded_exported_and_served_as_before(client, ballot, olga, alice, bob, cast):
    cast(bob, "code", "study")
    code, study = ballot.version.components.get(key="code"), ballot.criteria.get(key="study")
    dispute = services.raise_dispute(
        ballot=ballot, raised_by=alice, reason="After the deadline", voter=bob, component=code, criterion=study
    )
    raised = payload_bytes("dispute.raised")
    services.resolve_dispute(dispute=dispute, status="upheld", resolution="Agreed", acting_user=olga)

    selection = '{"choice":null,"component":"code","criterion":"study","group":null,"voter":"bob"}'
    assert raised == (
        '{"reason":"After the deadline","resolution":"","selection":' + selection + ',"status":"open","votes":1}'
    )
    assert payload_bytes("dispute.resolved") == (
        '{"reason":"After the deadline","resolution":"Agreed","selection":' + selection + ',"status":"upheld"}'
    )
    assert ballot_json(ballot)["disputes"] == [
        {
            "selection": {"voter": "bob", "group": None, "choice": None, "component": "code", "criterion": "study"},
            "reason": "After the deadline",
            "status": "upheld",
            "resolution": "Agreed",
            "raised_by": "alice",
        }
    ]
    [served] = api(client, ballot, "disputes")
    assert served["selection"] == {
        "voter": "bob",
        "group": None,
        "choice": None,
        "component": "code",
        "criterion": "study",
    }
    assert served["description"] == "votes by @bob on code for Study"
    dispute.refresh_from_db()
    assert str(dispute) == f"Dispute #{dispute.pk} on Component vote on 0.0.9: votes by @bob on code for Study"


def test_a_dispute_by_group_and_choice_selects_by_their_keys(ballot, olga, alice, dave, other_group, cast):
    not_necessary = ballot.choices.get(key="not-necessary")
    services.grant_veto(ballot=ballot, choice=not_necessary, group=other_group, reason="Charter", acting_user=olga)
    cast(dave, "code", "use", "not-necessary")
    dispute = services.raise_dispute(
        ballot=ballot, raised_by=alice, reason="No rationale", group=other_group, choice=not_necessary
    )

    assert payload_bytes("dispute.raised") == (
        '{"reason":"No rationale","resolution":"","selection":'
        '{"choice":"not-necessary","component":null,"criterion":null,"group":"corpora","voter":null},'
        '"status":"open","votes":1}'
    )
    assert dispute.selection == "votes for group corpora choosing Not necessary"


def test_the_ballots_chain_still_holds_over_these_events(ballot, olga, group, alice, bob, not_necessary, cast):
    services.grant_veto(ballot=ballot, choice=not_necessary, group=group, reason="Charter", acting_user=olga)
    cast(bob, "code", "use", "not-necessary", rationale="Not needed")
    services.raise_dispute(ballot=ballot, raised_by=alice, reason="Why", voter=bob)

    events = AuditEvent.objects.filter(stream=ballot.audit_stream).order_by("seq").canonical()
    assert chain.verify(events) == (None, {ballot.audit_stream: AuditEvent.objects.order_by("-pk").first().hash})


def test_the_grants_page_names_each_holder_and_links_to_the_votes_it_covers(client, ballot, olga, group, dave):
    for holder in ({"group": group}, {"member": dave}):
        services.grant_veto(
            ballot=ballot, choice=ballot.choices.get(key="not-necessary"), reason="R", acting_user=olga, **holder
        )

    content = client.get(reverse("votes:grants", args=["osd", ballot.key])).content.decode()

    assert "@dave</td>" in content
    assert 'roll-call/?choice=not-necessary&amp;group=weights"' in content
    assert 'roll-call/?choice=not-necessary&amp;voter=dave"' in content
