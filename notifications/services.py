"""Writing, e-mailing and reading notifications: one function per use case.

`notify` is called by the other apps' services inside the transaction of the change it tells about: the
notification commits with the change or not at all, and its e-mail is queued after the commit. `send` e-mails
one notification at most once: a worker claims it (pending → sending, with a lease) before it talks to the
mail server and marks it sent after; a worker that dies mid-send leaves a lease that runs out, and another
sends it then. Only a worker killed between the mail server's acceptance and its own commit (a millisecond
in a message's journey) could send one twice.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from .models import (
    BODY_MAX_LENGTH,
    DEFAULT_MODES,
    FIXED,
    KEY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Announcement,
    Delivery,
    Follow,
    Kind,
    Mode,
    Notification,
    Preference,
    followers,
)

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
BATCH = 200  # notifications one worker task e-mails over one connection


@dataclass(frozen=True)
class Message:
    """What a notification says: the same for every recipient of one change."""

    kind: str
    key: str
    subject: str
    body: str
    path: str


def site_language() -> translation.override:
    """Notifications are written, and e-mailed, in the site's language (settings.LANGUAGE_CODE), whoever's request
    caused them: one message goes to many people, and an account has no language of its own yet. Callers compose
    a Message inside `with site_language():`."""
    return translation.override(settings.LANGUAGE_CODE)


def notify(recipients: Iterable, message: Message) -> list[Notification]:
    """Tell each recipient (users; each once, and never twice about the same `key`), in the current transaction.

    Their e-mails are queued when it commits, each as the recipient's settings say.
    """
    users = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not users:
        return []
    already = set(
        Notification.objects.filter(recipient__in=users, kind=message.kind, key=message.key).values_list(
            "recipient_id", flat=True
        )
    )
    modes = _modes(users.values(), message.kind)
    addresses = _verified_addresses(users.keys())
    rows = [
        Notification(
            recipient_id=pk,
            kind=message.kind,
            key=message.key[:200],
            subject=message.subject[:SUBJECT_MAX_LENGTH],
            body=message.body[:BODY_MAX_LENGTH],
            path=message.path,
            delivery=_first_delivery(modes[pk], pk in addresses),
        )
        for pk in sorted(users)
        if pk not in already
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)  # a concurrent twin is kept, not doubled
    new = [pk for pk in sorted(users) if pk not in already]
    _queue_after_commit(message.kind, message.key, new)
    return list(
        Notification.objects.filter(recipient_id__in=new, kind=message.kind, key=message.key[:200]).order_by("pk")
    )


def rewrite_body(*, kinds: Iterable[str], key: str, body: str) -> int:
    """What the notifications of these kinds about `key` say, replaced (what they told of was hidden since).

    The inbox shows the new body at once, and e-mails and digests not yet sent carry it; one sent already is not
    recalled. How many notifications were rewritten.
    """
    return Notification.objects.filter(kind__in=list(kinds), key=key).update(body=body[:BODY_MAX_LENGTH])


def announce(user_ids: Iterable[int], message: Message) -> None:
    """Tell many people, as `notify` does, without writing a row per person in the change's transaction.

    The ids are kept in one `Announcement`; after the commit a worker writes each notification (`expand`), in
    batches, and queues their e-mails. Few recipients are told at once, as by `notify`.
    """
    ids = sorted(set(user_ids))
    if len(ids) < settings.NOTIFICATION_ANNOUNCE_FROM:
        notify(get_user_model().objects.filter(pk__in=ids).only("pk", "is_active"), message)
        return
    announcement = Announcement.objects.create(
        kind=message.kind,
        key=message.key[:KEY_MAX_LENGTH],
        subject=message.subject[:SUBJECT_MAX_LENGTH],
        body=message.body[:BODY_MAX_LENGTH],
        path=message.path,
        recipients=ids,
    )
    transaction.on_commit(lambda: _queue_expansion(announcement.pk))


def _queue_expansion(pk: int) -> None:
    from .tasks import expand_announcement

    try:
        expand_announcement.delay(pk)
    except Exception:  # after the commit: the sweep (`send_waiting`) expands it once the broker is back
        logger.exception("Could not queue announcement %s; the next sweep expands it", pk)


def expand(pk: int) -> int:
    """Write each recipient's notification of an announcement, in batches; how many were written. Safe to run
    twice: a recipient told already is not told again, and an expanded announcement is left alone."""
    written = 0
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().filter(pk=pk, expanded_at__isnull=True).first()
        if announcement is None:
            return 0
        message = Message(
            announcement.kind, announcement.key, announcement.subject, announcement.body, announcement.path
        )
        users = get_user_model().objects.only("pk", "is_active")
        for start in range(0, len(announcement.recipients), BATCH):
            chunk = announcement.recipients[start : start + BATCH]
            written += len(notify(users.filter(pk__in=chunk), message))
        announcement.expanded_at = timezone.now()
        announcement.save(update_fields=["expanded_at"])
    return written


def notify_address(address: str, message: Message) -> Notification | None:
    """Tell an address with no account (an invitation); once per address and key."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                address=address,
                kind=message.kind,
                key=message.key,
                subject=message.subject[:SUBJECT_MAX_LENGTH],
                body=message.body[:BODY_MAX_LENGTH],
                path=message.path,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: queue([notification.pk]))
    return notification


def _first_delivery(mode: str, has_address: bool) -> str:
    if not has_address:
        return Delivery.NO_ADDRESS
    first: dict[str, str] = {Mode.IMMEDIATELY: Delivery.PENDING, Mode.DAILY: Delivery.IN_DIGEST}
    return first.get(mode, Delivery.NOT_EMAILED)


def _modes(users, kind: str) -> dict[int, str]:
    """Each user's mode for the kind, in one query."""
    chosen = dict(Preference.objects.filter(user__in=list(users), kind=kind).values_list("user_id", "mode"))
    default = Mode.IMMEDIATELY if kind in FIXED else DEFAULT_MODES[kind]
    return {user.pk: default if kind in FIXED else chosen.get(user.pk, default) for user in users}


def _verified_addresses(user_ids) -> dict[int, str]:
    """Each user's verified primary address (else any verified one): where their mail goes."""
    from allauth.account.models import EmailAddress

    found: dict[int, str] = {}
    for user_id, email in (
        EmailAddress.objects.filter(user_id__in=list(user_ids), verified=True)
        .order_by("-primary")
        .values_list("user_id", "email")
    ):
        found.setdefault(user_id, email)
    return found


def _queue_after_commit(kind: str, key: str, user_ids: list[int]) -> None:
    def hand_over() -> None:
        ids = list(
            Notification.objects.filter(recipient_id__in=user_ids, kind=kind, key=key, delivery=Delivery.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        queue(ids)

    if user_ids:
        transaction.on_commit(hand_over)


def queue(ids: list[int]) -> None:
    """Hand the ids to the workers in batches; with no broker they wait for the sweep (`send_waiting`)."""
    from .tasks import deliver

    for start in range(0, len(ids), BATCH):
        try:
            deliver.delay(ids[start : start + BATCH])
        except Exception:  # after the commit: the notifications stay pending, and the sweep sends them
            logger.exception("Could not queue %s notifications; the next sweep sends them", len(ids) - start)
            return


# Sending -------------------------------------------------------------------------------------------


def send(ids: Iterable[int]) -> int:
    """E-mail these notifications, each at most once, over one connection; how many this call sent.

    A mail server that refuses raises, after the notification is put back to pending: the task retries.
    """
    sent = 0
    connection = None
    try:
        for pk in ids:
            notification = _claim(pk)
            if notification is None:
                continue  # sent already, or another worker holds it
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                connection.send_messages([email(notification)])
            except Exception as exc:
                Notification.objects.filter(pk=pk, delivery=Delivery.SENDING).update(
                    delivery=Delivery.PENDING, sending_since=None, last_error=str(exc)[:500]
                )
                raise
            Notification.objects.filter(pk=pk).update(delivery=Delivery.SENT, sent_at=timezone.now(), last_error="")
            if notification.recipient_id is None:  # an invitation's link works once: once sent, no copy is kept
                Notification.objects.filter(pk=pk).update(body="", path="")
            Notification.objects.filter(digest_id=pk).update(delivery=Delivery.DIGESTED, sent_at=timezone.now())
            sent += 1
    finally:
        if connection is not None:
            connection.close()
    return sent


def _claim(pk: int) -> Notification | None:
    """Take the notification for this worker: pending, or held by a worker whose lease ran out."""
    with transaction.atomic():
        notification = (
            Notification.objects.to_send()
            .select_for_update(skip_locked=True, of=("self",))  # not the recipient, an outer join PostgreSQL won't lock
            .select_related("recipient")
            .filter(pk=pk)
            .first()
        )
        if notification is None:
            return None
        notification.delivery, notification.sending_since = Delivery.SENDING, timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["delivery", "sending_since", "attempts"])
    return notification


def expand_waiting(older_than: timedelta = timedelta(seconds=30)) -> int:
    """Expand the announcements no worker expanded: queued while the broker was down."""
    cutoff = timezone.now() - older_than
    pks = list(
        Announcement.objects.waiting().filter(created_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
    )
    return sum(expand(pk) for pk in pks)


def waiting(older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """The notifications no worker is sending: queued while the broker was down, or left by a killed worker."""
    return list(
        Notification.objects.to_send(older_than=older_than).order_by("pk").values_list("pk", flat=True)[:10_000]
    )


def email(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail of a notification: plain text and HTML, with a one-click unsubscribe (RFC 8058)."""
    found = _verified_addresses([notification.recipient_id]) if notification.recipient_id is not None else {}
    address = notification.address or found.get(notification.recipient_id or 0, "")
    link = absolute(notification.path)
    context = {
        "site_name": settings.SITE_NAME,
        "notification": notification,
        "greeting": "",
        "link": link,
        "settings_link": absolute(reverse("notifications:settings")),
        "unsubscribe": None,
    }
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    if notification.recipient_id is not None and notification.kind not in FIXED:
        unsubscribe = absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(notification)]))
        context["unsubscribe"] = unsubscribe
        headers |= {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with site_language():
        context["greeting"] = _greeting(notification.recipient)
        message = EmailMultiAlternatives(
            subject=f"[{settings.SITE_NAME}] {notification.subject}",
            body=render_to_string("notifications/email.txt", context),
            to=[address],
            headers=headers,
        )
        message.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    return message


def _greeting(user) -> str:
    if user is None:
        return gettext("Hello from %(site)s,") % {"site": settings.SITE_NAME}
    return gettext("Hello %(name)s,") % {"name": user.get_full_name() or "@" + user.get_username()}


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# Digests -------------------------------------------------------------------------------------------


def gather_digests(now=None) -> list[int]:
    """One digest per person with notifications waiting for it: written, and their items tied to it."""
    now = now or timezone.now()
    waiting_items = Notification.objects.filter(delivery=Delivery.IN_DIGEST, digest__isnull=True)
    digests = []
    for user_id in waiting_items.order_by().values_list("recipient_id", flat=True).distinct():
        with transaction.atomic():
            items = list(waiting_items.select_for_update().filter(recipient_id=user_id).order_by("created_at", "pk"))
            if not items:
                continue
            listed = [(item, absolute(item.path)) for item in items]
            with site_language():
                body = render_to_string("notifications/digest.txt", {"items": listed})
                subject = ngettext(
                    "%(count)s update since your last digest", "%(count)s updates since your last digest", len(items)
                ) % {"count": len(items)}
            digest = Notification.objects.create(
                recipient_id=user_id,
                kind=Kind.DIGEST,
                key=f"digest:{items[-1].pk}",
                subject=subject,
                body=body[:BODY_MAX_LENGTH],
                path=reverse("notifications:inbox"),
                read_at=now,  # the digest itself is not an item of the inbox
            )
            Notification.objects.filter(pk__in=[i.pk for i in items]).update(digest=digest)
            digests.append(digest.pk)
    return digests


# The recipient's side ------------------------------------------------------------------------------


def mark_read(*, notification: Notification, user) -> Notification:
    if notification.recipient_id != user.pk:
        raise PermissionDenied(gettext("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user) -> int:
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def set_modes(*, user, modes: dict[str, str]) -> None:
    """The person's e-mail settings, per kind; the kinds they cannot turn off are left as they are."""
    for kind, mode in modes.items():
        if kind in FIXED or kind not in Kind.values or mode not in Mode.values:
            continue
        Preference.objects.update_or_create(user=user, kind=kind, defaults={"mode": mode})


def unsubscribe_token(notification: Notification) -> str:
    return signing.dumps({"u": notification.recipient_id, "k": notification.kind}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in Kind.values or not isinstance(data.get("u"), int):
        return None
    return data["u"], data["k"]


def unsubscribe(token: str) -> tuple[int, str] | None:
    """Stop e-mails of one kind, by the link in one of them: no sign-in, as RFC 8058 asks."""
    found = read_unsubscribe_token(token)
    if found is None:
        return None
    user_id, kind = found
    if kind in FIXED:
        return None
    Preference.objects.update_or_create(user_id=user_id, kind=kind, defaults={"mode": Mode.OFF})
    Notification.objects.filter(
        recipient_id=user_id, kind=kind, delivery__in=[Delivery.PENDING, Delivery.IN_DIGEST]
    ).update(delivery=Delivery.NOT_EMAILED)
    return found


def set_display_name(*, user, first_name: str, last_name: str) -> None:
    """How Plenary names the person in e-mails and on rosters; with neither, by their @handle."""
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])


# Following a definition ----------------------------------------------------------------------------


def follow(*, user, definition) -> Follow:
    """The person follows the definition: its releases and new ballots reach them (`Kind.FOLLOWED`)."""
    found, _ = Follow.objects.update_or_create(
        user=user, definition=definition, defaults={"following": True, "at": timezone.now()}
    )
    return found


def unfollow(*, user, definition) -> Follow:
    """The person stops following, even as a member or organizer (who follow by default): a row says so."""
    found, _ = Follow.objects.update_or_create(
        user=user, definition=definition, defaults={"following": False, "at": timezone.now()}
    )
    return found


def is_following(user, definition) -> bool:
    return user.is_authenticated and followers(definition).filter(pk=user.pk).exists()
