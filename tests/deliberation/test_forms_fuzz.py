"""Every deliberation form, posted through its real URL with hostile input drawn by hypothesis.

Each test posts as the persona allowed to use the form (olga organizes, alice chairs `weights`,
bob is a member) and checks what `tests/fuzzing.py` describes: never a 500; either the input is
stored exactly as sent, or it is refused with a message shown on the page and no row of any
table changes, audit log included. Values such as "@thread" stand for a row's id, filled in
once the fixtures exist.
"""

import pytest
from django.utils.text import slugify
from hypothesis import example, given
from hypothesis import strategies as st

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Comment, DraftVersion, Membership, WorkingGroup, category_key, tidy_category
from tests.deliberation.pages import url
from tests.fuzzing import (
    answer,
    assert_refused_clearly,
    fill,
    fuzz,
    mutated,
    post,
    references,
    rolled_back,
    rows,
    submitted,
    text,
)

LABEL = st.from_regex(r"[0-9A-Za-z][0-9A-Za-z.+\-]{0,31}", fullmatch=True)
KEY = st.from_regex(r"[-a-zA-Z0-9_]{1,64}", fullmatch=True)


def refused_or(result, before: dict) -> bool:
    """True when the input was accepted; when refused, check the message is shown and nothing was written."""
    if result.refused:
        assert result.status in (200, 302), result.status
        assert_refused_clearly(result)
        assert rows() == before, "a refused form changed the database"
        return False
    return True


# Drafts and releases -------------------------------------------------------------------------------------------


@fuzz()
@given(
    data=mutated(
        {"label": LABEL, "body": text(400), "revision": st.just("1")},  # the draft's first revision, as started
        {
            "label": st.one_of(text(40), st.just("0.0.9")),
            "revision": st.one_of(text(12), st.sampled_from(["0", "2", "-1", "99999999999999999999"])),
        },
    )
)
@example(data={"label": "0.0.10", "body": "Body with a NUL \x00 byte.", "revision": "1"})
@example(data={"label": "0.0.10\x00", "body": "x", "revision": "1"})
@example(data={"label": "0.0.9", "body": "x", "revision": "1"})  # the label of the published version
@example(data={"label": "0.0.10", "body": "x", "revision": "2"})  # a revision the draft does not have yet
@example(data={"label": "0.0.10", "body": "x", "revision": "99999999999999999999"})
@example(data={"label": "0.0.10", "body": "x"})  # no revision: from no editor page
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_draft_form_stores_what_was_sent_or_says_why_not(client, olga, draft, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("draft-edit", "osd", "0.0.10"), data))

        if refused_or(result, before):
            sent = submitted(data)
            version = DraftVersion.objects.get(pk=draft.pk)
            assert (version.label, version.body) == (sent["label"].strip(), sent.get("body", "").strip())
            assert AuditEvent.objects.count() == len(before["audit.AuditEvent"]) + 1


@fuzz()
@given(data=mutated({"release_notes": text(400), "reviewed": st.just("@digest")}, {"reviewed": text(80)}))
@example(data={"release_notes": "Notes \x00 with a NUL", "reviewed": "@digest"})
@example(data={"release_notes": "Notes", "reviewed": "0" * 64})  # another draft than the one shown
@example(data={"release_notes": "Notes"})  # from no publish page
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_publish_form_stores_the_release_notes_or_says_why_not(client, olga, draft, data):
    data = fill(data, {"@digest": services.version_digest(draft)})
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("publish", "osd", "0.0.10"), data))

        if refused_or(result, before):
            version = DraftVersion.objects.get(pk=draft.pk)
            assert version.is_published
            assert version.release_notes == submitted(data)["release_notes"].strip()


@fuzz()
@given(
    data=mutated(
        {"label": LABEL, "from": st.sampled_from(["0.0.9", None])},
        {"from": st.one_of(text(40), st.just("0.0.8"))},
    )
)
@example(data={"label": "1.0", "from": "0.0.9\x00"})
@example(data={"label": "1.0\x00", "from": "0.0.9"})
@example(data={"label": "0.0.9", "from": "0.0.9"})
@example(data={"label": "1.0", "from": " "})  # from nothing: the definition's first draft
def test_the_next_draft_form_starts_the_draft_or_says_why_not(client, olga, published, data):
    with rolled_back(client, olga):
        before = rows()
        response = post(client, url("draft-start", "osd"), data)
        if response.status_code == 404:  # `from` names no published version of the definition
            source = submitted(data)["from"].strip()
            assert not published.definition.versions.published().filter(label=source).exists()
            assert rows() == before
            return
        result = answer(client, response)

        if refused_or(result, before):
            sent = submitted(data)
            draft = DraftVersion.objects.get(status=DraftVersion.Status.DRAFT)
            assert draft.label == sent["label"].strip()
            assert draft.based_on == (published if sent.get("from", "").strip() else None)


# Components ----------------------------------------------------------------------------------------------------

PARTS = st.lists(st.sampled_from(["@code", "@data", "@all-data"]), max_size=3, unique=True)


@fuzz(30)
@given(
    target=st.sampled_from([None, "code", "data", "all-data"]),
    data=mutated(
        {
            "key": st.one_of(st.none(), KEY),  # left out: made from the title
            "title": text(60),
            "category": st.one_of(st.none(), st.sampled_from(["Code", "Data", "Model"]), text(80)),
            "new_category": st.one_of(st.none(), st.sampled_from(["model", " code ", "DATA", "Eval  data"]), text(80)),
            "description": st.one_of(st.none(), text(300)),
            "aggregate_rule": st.sampled_from([None, "", "sum", "mean"]),
            "parts": st.one_of(st.none(), PARTS),
        },
        {"parts": st.lists(references(), min_size=1, max_size=3), "key": st.one_of(text(80), st.just("code"))},
    ),
)
@example(target=None, data={"key": "docs", "title": "Docs \x00", "category": "Documentation"})
@example(target="code", data={"key": "code", "title": "Code", "category": "Code", "parts": ["99999999999999999999"]})
@example(target="data", data={"key": "data", "title": "Data", "category": "Data", "aggregate_rule": "sum"})
@example(target=None, data={"title": "Model weights", "new_category": "model"})  # a new category, key from title
@example(target=None, data={"title": "Evaluation code", "new_category": " code "})  # folded into Code
@example(target=None, data={"title": "Evaluation code", "category": "Data", "new_category": "code"})  # both
@example(target=None, data={"title": "!!!", "category": "Code"})  # no key can be made from this title
@example(target=None, data={})  # an empty post: the form again, saying what is missing
def test_the_component_form_stores_what_was_sent_or_says_why_not(client, olga, draft, target, data):
    ids = {f"@{c.key}": c.pk for c in draft.components.all()}
    data = fill(data, ids)
    path = url("component-edit", "osd", "0.0.10", target) if target else url("component-create", "osd", "0.0.10")
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, path, data))

        if refused_or(result, before):
            sent = submitted(data)
            key = sent.get("key", "").strip() or slugify(sent["title"])[:64].strip("-")  # as the service makes it
            saved = draft.components.get(key=key)
            assert saved.pk == ids[f"@{target}"] if target else saved.pk not in ids.values()
            stored = (saved.title, saved.category, saved.description, saved.aggregate_rule)
            expected = tuple(sent.get(f, "").strip() for f in ("title", "category", "description", "aggregate_rule"))
            typed = tidy_category(sent.get("new_category", ""))
            if typed:  # filed under the definition's spelling of it, if it has one
                known = {category_key(c): c for c in ("Code", "Data")}
                expected = (expected[0], known.get(category_key(typed), typed), *expected[2:])
            assert stored == expected
            assert sorted(p.pk for p in saved.parts.all()) == sorted({int(p) for p in sent.getlist("parts")})


# Comments ------------------------------------------------------------------------------------------------------


@pytest.fixture
def discussion(published, draft, alice, bob, olga):
    """bob's thread on 0.0.9 with alice's reply, a thread on its component `code`, and olga's note on the draft."""
    thread = services.post_comment(author=bob, version=published, body="Training *code* should be required.")
    reply = services.post_comment(author=alice, version=published, parent=thread, body="Agreed.")
    on_code = services.post_comment(
        author=bob, version=published, component=published.components.get(key="code"), body="On code."
    )
    note = services.post_comment(author=olga, version=draft, body="Check the wording.")
    return {"@thread": thread.pk, "@reply": reply.pk, "@on-code": on_code.pk, "@draft-note": note.pk}


COMMENT = {
    "body": text(300),
    "parent": st.sampled_from([None, "", "@thread", "@reply", "@on-code", "@draft-note"]),
}


@fuzz(30)
@given(on_component=st.booleans(), htmx=st.booleans(), data=mutated(COMMENT, {"parent": references()}))
@example(on_component=False, htmx=False, data={"body": "\x00"})
@example(on_component=False, htmx=True, data={"body": "A NUL\x00 in the middle"})
@example(on_component=False, htmx=True, data={"body": "Reply", "parent": "nonsense"})
@example(on_component=True, htmx=True, data={"body": "Reply", "parent": "@thread"})  # a thread of another page
@example(on_component=False, htmx=True, data={"body": "Reply", "parent": "99999999999999999999"})
def test_the_comment_form_posts_what_was_written_or_says_why_not(
    client, bob, published, discussion, on_component, htmx, data
):
    data = fill(data, discussion)
    where = ("component-comment-create", "osd", "0.0.9", "code") if on_component else ("comment-create", "osd", "0.0.9")
    with rolled_back(client, bob):
        before = rows()
        response = post(client, url(*where), data, htmx=htmx)
        result = answer(client, response)

        if htmx:
            assert response.status_code == 200
            assert "<html" not in result.html
            assert ("comment-posted" in response.headers.get("HX-Trigger", "")) is not result.refused
        if refused_or(result, before):
            sent = submitted(data)
            comment = Comment.objects.exclude(pk__in=discussion.values()).get()
            assert (comment.author, comment.version, comment.body) == (bob, published, sent["body"].strip())
            assert comment.component == (published.components.get(key="code") if on_component else None)
            parent = Comment.objects.get(pk=sent["parent"]) if sent.get("parent") else None
            assert comment.parent == (parent and (parent.parent or parent))
            assert f'id="comment-{comment.pk}"' in result.html
            assert str(comment.body_html) in result.html  # what was stored is what is shown


@fuzz()
@given(data=mutated({"body": text(300)}))
@example(data={"body": "Edited \x00"})
@example(data={"body": "Training *code* should be required."})  # unchanged: nothing to record
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_comment_edit_form_stores_the_new_text_or_says_why_not(client, bob, discussion, data):
    with rolled_back(client, bob):
        before = rows()
        result = answer(client, post(client, url("comment-edit", discussion["@thread"]), data))

        if refused_or(result, before):
            comment = Comment.objects.get(pk=discussion["@thread"])
            assert comment.body == submitted(data)["body"].strip()
            if comment.body == "Training *code* should be required.":
                assert rows() == before
            else:
                assert [r.body for r in comment.revisions.all()] == ["Training *code* should be required."]


@fuzz()
@given(data=mutated({"reason": text(200)}))
@example(data={"reason": "Off topic \x00"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_hide_comment_form_hides_with_the_reason_or_says_why_not(client, olga, discussion, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("comment-hide", discussion["@thread"]), data))

        if refused_or(result, before):
            comment = Comment.objects.get(pk=discussion["@thread"])
            assert (comment.is_hidden, comment.hidden_reason) == (True, submitted(data)["reason"].strip())


# Working groups ------------------------------------------------------------------------------------------------


@fuzz()
@given(
    data=mutated(
        {"key": KEY, "name": text(60), "description": st.one_of(st.none(), text(200))},
        {"key": st.one_of(text(80), st.just("weights"))},
    )
)
@example(data={"key": "weights", "name": "Weights again"})
@example(data={"key": "tools", "name": "Tools\x00"})
@example(data={})  # an empty post: the form again, saying what is missing
def test_the_working_group_form_creates_the_group_or_says_why_not(client, olga, group, data):
    with rolled_back(client, olga):
        before = rows()
        result = answer(client, post(client, url("group-create", "osd"), data))

        if refused_or(result, before):
            sent = submitted(data)
            created = WorkingGroup.objects.exclude(pk=group.pk).get()
            expected = (sent["key"].strip(), sent["name"].strip(), sent.get("description", "").strip())
            assert (created.key, created.name, created.description) == expected


@fuzz()
@given(
    persona=st.sampled_from(["alice", "olga"]),
    data=mutated(
        {
            "username": st.sampled_from(["carol", "dave", "bob", " Carol ", "nobody", None]),
            "role": st.sampled_from(["member", "chair", None]),
        },
        {"role": text(20)},
    ),
)
@example(persona="alice", data={"username": "carol", "role": "chair"})  # a chair appoints a co-chair
@example(persona="alice", data={"username": "carol\x00", "role": "member"})
def test_the_add_member_form_adds_the_member_or_says_why_not(request, client, group, carol, dave, persona, data):
    with rolled_back(client, request.getfixturevalue(persona)):
        before = rows()
        result = answer(client, post(client, url("member-add", "osd", "weights"), data))

        if refused_or(result, before):
            sent = submitted(data)
            joined = Membership.objects.exclude(pk__in=[r["id"] for r in before["deliberation.Membership"]]).get()
            assert (joined.group, joined.user.username, joined.role) == (
                group,
                sent["username"].strip().lower(),
                sent.get("role", "member"),
            )
