"""A comment tells the author it replies to and the people it mentions, over a real SMTP server; never its own
author, never someone who may not read it, and never the text of a hidden comment."""

from html.parser import HTMLParser

import pytest

from deliberation import services
from deliberation.markdown import render_markdown
from notifications.models import Kind, Notification
from tests.mail import text_of


@pytest.fixture
def immediate(django_capture_on_commit_callbacks):
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def test_a_reply_tells_the_author_replied_to_by_e_mail_with_a_link_to_the_reply(
    smtp_server, immediate, alice, bob, published
):
    first = services.post_comment(author=bob, version=published, body="Code should be required.")
    reply = immediate(lambda: services.post_comment(author=alice, version=published, body="Agreed.", parent=first))

    [mail] = smtp_server.messages
    assert mail["To"] == "bob@example.org"
    assert mail["Subject"] == "[Plenary] @alice replied to your comment on Open System Definition 0.0.9"
    assert "Agreed." in text_of(mail) and f"/d/osd/v/0.0.9/#comment-{reply.pk}" in text_of(mail)
    assert Notification.objects.get().kind == Kind.REPLY


def test_replying_to_oneself_or_mentioning_oneself_tells_no_one(smtp_server, immediate, bob, published):
    first = services.post_comment(author=bob, version=published, body="Code should be required.")
    immediate(lambda: services.post_comment(author=bob, version=published, body="And I, @bob, insist.", parent=first))

    assert smtp_server.messages == [] and not Notification.objects.exists()


def test_each_person_mentioned_who_exists_is_told_once(smtp_server, immediate, alice, bob, carol, published):
    body = "Ask @carol and @Alice (and @nobody); @carol again. Not alice@example.org, not `@bob`."
    comment = immediate(lambda: services.post_comment(author=bob, version=published, body=body))

    assert sorted(m["To"] for m in smtp_server.messages) == ["alice@example.org", "carol@example.org"]
    assert {m["Subject"] for m in smtp_server.messages} == {
        "[Plenary] @bob mentioned you on Open System Definition 0.0.9"
    }
    assert '<a href="/audit/?actor=carol" class="mention"' in comment.body_html
    assert '<a href="/audit/?actor=alice" class="mention"' in comment.body_html  # "@Alice" is alice
    assert "@nobody" in comment.body_html and "actor=nobody" not in comment.body_html
    assert "<code>@bob</code>" in comment.body_html


def test_the_author_replied_to_is_told_of_the_reply_not_again_of_a_mention_in_it(
    immediate, smtp_server, alice, bob, published
):
    first = services.post_comment(author=bob, version=published, body="Code should be required.")
    immediate(lambda: services.post_comment(author=alice, version=published, body="@bob yes.", parent=first))

    assert list(Notification.objects.values_list("recipient__username", "kind")) == [("bob", Kind.REPLY)]
    assert len(smtp_server.messages) == 1


def test_at_most_twenty_people_are_told_of_one_comment(immediate, smtp_server, bob, published):
    from tests.factories import UserFactory

    people = [UserFactory(username=f"p{i:02}") for i in range(25)]
    immediate(lambda: services.post_comment(author=bob, version=published, body=" ".join(f"@{p}" for p in people)))

    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {f"p{i:02}" for i in range(services.MENTIONS_NOTIFIED_MAX)} and len(told) == 20


def test_a_mention_on_a_draft_in_progress_tells_only_its_organizers(immediate, smtp_server, olga, bob, draft):
    immediate(lambda: services.post_comment(author=olga, version=draft, body="Secret wording, @bob?"))

    assert smtp_server.messages == [] and not Notification.objects.exists()  # bob may not read the draft


def test_a_notification_quotes_at_most_200_characters(immediate, smtp_server, alice, bob, published):
    comment = immediate(lambda: services.post_comment(author=bob, version=published, body="@alice " + "x" * 500))

    [notification] = Notification.objects.all()
    assert len(notification.body) == services.QUOTE_MAX and notification.body.endswith("…")
    assert comment.body.startswith(notification.body[:-1])


def test_a_hidden_comment_is_not_quoted_by_a_reply_to_it_nor_in_its_notifications(
    immediate, smtp_server, olga, alice, bob, published, settings
):
    hidden = services.post_comment(author=bob, version=published, body="Something rude about @alice.")
    services.hide_comment(comment=hidden, reason="Off topic.", acting_user=olga)

    mention = Notification.objects.get(recipient=alice)
    assert "rude" not in mention.body and mention.body == "This comment was hidden by @olga: Off topic."
    immediate(lambda: services.post_comment(author=alice, version=published, body="Please don't.", parent=hidden))

    reply = Notification.objects.get(recipient=bob)
    assert reply.body == "Please don't." and "rude" not in reply.subject
    assert not any("rude" in text_of(m) for m in smtp_server.messages)


class Elements(HTMLParser):
    """Every element of a fragment: its tag and attributes, as a browser would read them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    "body",
    [
        "@<script>alert(1)</script>",
        '@alice"><script>alert(1)</script>',
        "[@alice](javascript:alert(1))",
        "<a href='javascript:alert(1)' class='mention'>@alice</a>",
        "@alice<img src=x onerror=alert(1)>",
        "[a link @alice](https://example.org)",
    ],
)
def test_mentions_are_rendered_safely(body, alice, bob, published):
    html = services.post_comment(author=bob, version=published, body=body).body_html

    elements = Elements(html).found
    assert {tag for tag, _ in elements} <= {"p", "a"}
    links = [attrs for tag, attrs in elements if tag == "a"]
    assert all(set(attrs) <= {"href", "class", "rel"} for attrs in links)
    assert all(attrs["href"] in ("/audit/?actor=alice", "https://example.org") for attrs in links)
    assert len(links) <= 1  # no link nested in another: a mention inside a link's text stays text


def test_the_sanitizer_still_runs_on_what_a_mention_link_holds():
    html = render_markdown("@bob", mention_links={"bob": "javascript:alert(1)"})

    assert [(tag, attrs.get("href")) for tag, attrs in Elements(html).found] == [("p", None), ("a", None)]
