"""Every write in the deliberation app: one function per use case, each audited in its transaction."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext

from audit.models import canonical_json, lock_stream, record
from notifications import webhooks
from notifications.models import Event, Kind, followers
from notifications.services import Message, notify, notify_address, rewrite_body, site_language
from plenary_tally.vocabulary import Action

from . import access, lines, providers
from .markdown import mentions, render_markdown
from .models import (
    BULK_LINES_MAX,
    INVITATION_LIFETIME_DAYS,
    PASSAGE_MAX_LINES,
    CalendarToken,
    Comment,
    CommentRevision,
    Component,
    Definition,
    DraftRevision,
    DraftVersion,
    Invitation,
    JoinRequest,
    Membership,
    Suggestion,
    Support,
    WorkingGroup,
    category_key,
    comment_length,
    decision_reason_length,
    join_note_length,
    release_notes_length,
    suggestion_length,
    suggestion_reason_length,
    tidy_category,
    token_digest,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def _require_organizer(definition: Definition, user: "User") -> None:
    if not definition.is_organizer(user):
        raise PermissionDenied(gettext("Only the definition's organizers can do this."))


def _require_draft(version: DraftVersion) -> None:
    if version.is_published:
        raise ValidationError(
            gettext("Version %(label)s is published and can no longer change.") % {"label": version.label}
        )


def _lock(version: DraftVersion) -> DraftVersion:
    """Re-read the version under a row lock, so a publish cannot interleave with an edit."""
    return DraftVersion.objects.select_for_update().select_related("definition").get(pk=version.pk)


def version_digest(version: DraftVersion, *, salted: bool = False) -> str:
    """SHA-256 over the version's text and components: what a publication commits to.

    A draft's edits record the digest `salted` with the draft's own secret salt, so that nobody can confirm a
    guess of a private draft's text against the public log; the salt is published with the release, and the
    last edit's digest can then be checked against the published text.
    """
    components = [asdict(spec) for spec in version.components.order_by("key").specs()]
    data = {"label": version.label, "body": version.body, "components": components}
    if salted:
        data["salt"] = version.digest_salt
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


# Definitions ---------------------------------------------------------------------------------


def _definition_payload(definition: Definition) -> dict:
    organizers = sorted(u.get_username() for u in definition.organizers.all())
    payload: dict[str, Any] = {"slug": definition.slug, "title": definition.title, "organizers": organizers}
    if definition.drafts_open:
        payload["drafts_open"] = True  # said when it is so: the log of a definition drafted behind doors is unchanged
    return payload


@transaction.atomic
def create_definition(
    *,
    slug: str,
    title: str,
    summary: str = "",
    organizers: list,
    acting_user: "User | None",
    from_the_command_line: bool = False,
    drafts_open: bool = False,
) -> Definition:
    """Start a definition with its organizers. `acting_user` None means the system (e.g. the demo seed).

    Anyone the site's DEFINITION_CREATORS setting allows may (`access.may_start_definition`): the definition
    page makes its creator the first organizer, the admin names whom it likes. A management command
    (`from_the_command_line`, such as import_tally) is run by whoever runs the server, to whom the setting does
    not apply. There is always one organizer.
    """
    if acting_user is not None and not from_the_command_line and not access.may_start_definition(acting_user):
        raise PermissionDenied(access.START_DEFINITION_REFUSED)
    if not organizers:
        raise ValidationError(gettext("A definition needs at least one organizer."))
    definition = Definition(slug=slug, title=title, summary=summary, drafts_open=drafts_open)
    definition.full_clean()
    definition.save()
    definition.organizers.set(organizers)
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.DEFINITION_CREATED,
        subject=definition,
        payload=_definition_payload(definition),
    )
    return definition


@transaction.atomic
def update_definition(
    *,
    definition: Definition,
    title: str,
    summary: str,
    organizers: list,
    acting_user: "User",
    drafts_open: bool | None = None,
) -> Definition:
    """Retitle a definition, or change its summary or organizers; its slug names its streams and never changes.

    Recorded even when nothing changed, as the admin's every save of the form is. Staff only, like creating one.
    """
    definition = Definition.objects.select_for_update().get(pk=definition.pk)
    definition.title, definition.summary = title, summary
    if drafts_open is not None:  # None leaves it as it is
        definition.drafts_open = drafts_open
    definition.full_clean()
    definition.save(update_fields=["title", "summary", "drafts_open"])
    definition.organizers.set(organizers)
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.DEFINITION_CHANGED,
        subject=definition,
        payload=_definition_payload(definition),
    )
    return definition


def _lock_definition(definition: Definition, acting_user: "User") -> Definition:
    """The definition under a row lock, so two organizers changing the organizers take turns; organizers only."""
    definition = Definition.objects.select_for_update().get(pk=definition.pk)
    _require_organizer(definition, acting_user)
    return definition


@transaction.atomic
def add_organizer(*, definition: Definition, user: "User", acting_user: "User") -> Definition:
    """Make `user` an organizer too: from then on they may do all that an organizer does."""
    definition = _lock_definition(definition, acting_user)
    if not user.is_active:
        raise ValidationError(gettext("@%(handle)s's account is closed.") % {"handle": user.get_username()})
    if definition.organizers.filter(pk=user.pk).exists():
        raise ValidationError(
            gettext("@%(handle)s already organizes %(title)s.")
            % {"handle": user.get_username(), "title": definition.title}
        )
    definition.organizers.add(user)
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.ORGANIZER_ADDED,
        subject=definition,
        payload={"organizer": user.get_username(), "organizers": _definition_payload(definition)["organizers"]},
    )
    return definition


@transaction.atomic
def remove_organizer(*, definition: Definition, user: "User", acting_user: "User") -> Definition:
    """Take `user` off the organizers (an organizer may step down); the last organizer stays."""
    definition = _lock_definition(definition, acting_user)
    if not definition.organizers.filter(pk=user.pk).exists():
        raise ValidationError(
            gettext("@%(handle)s does not organize %(title)s.")
            % {"handle": user.get_username(), "title": definition.title}
        )
    if definition.organizers.count() == 1:
        raise ValidationError(
            gettext("@%(handle)s is the last organizer of %(title)s: add another organizer first.")
            % {"handle": user.get_username(), "title": definition.title}
        )
    definition.organizers.remove(user)
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.ORGANIZER_REMOVED,
        subject=definition,
        payload={"organizer": user.get_username(), "organizers": _definition_payload(definition)["organizers"]},
    )
    return definition


# Versions ------------------------------------------------------------------------------------


@transaction.atomic
def start_draft(
    *, definition: Definition, label: str, acting_user: "User", based_on: DraftVersion | None = None
) -> DraftVersion:
    """Open a new draft, as a copy of a published version when `based_on` is given."""
    _require_organizer(definition, acting_user)
    if based_on is not None and not definition.versions.published().filter(pk=based_on.pk).exists():
        raise ValidationError(gettext("A new draft starts from a published version of the same definition."))
    if definition.versions.filter(status=DraftVersion.Status.DRAFT).exists():
        raise ValidationError(gettext("This definition already has a draft in progress; publish it first."))
    draft = DraftVersion(
        definition=definition,
        label=label,
        body=based_on.body if based_on else "",
        body_html=based_on.body_html if based_on else "",
        based_on=based_on,
    )
    draft.full_clean()
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError as exc:
        raise ValidationError(gettext("Version %(label)s already exists.") % {"label": label}) from exc
    if based_on is not None:
        _copy_components(based_on, draft)
    _keep_revision(draft, author=acting_user, number=1)
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.DRAFT_STARTED,
        subject=draft,
        payload={
            "definition": definition.slug,
            "label": label,
            "based_on": based_on.label if based_on else None,
        },
    )
    if based_on is not None:
        _carry(based_on.suggestions.pending(), draft, acting_user)
    return draft


def _copy_components(source: DraftVersion, target: DraftVersion) -> None:
    originals = list(source.components.prefetch_related("parts"))
    copies = Component.objects.bulk_create(
        Component(
            version=target,
            key=c.key,
            title=c.title,
            category=c.category,
            description=c.description,
            position=c.position,
            aggregate_rule=c.aggregate_rule,
        )
        for c in originals
    )
    by_key = {c.key: c for c in copies}
    Through = Component.parts.through
    Through.objects.bulk_create(
        Through(from_component_id=by_key[c.key].pk, to_component_id=by_key[p.key].pk)
        for c in originals
        for p in c.parts.all()
    )


def _keep_revision(version: DraftVersion, *, author: "User", number: int) -> DraftRevision:
    return DraftRevision.objects.create(
        version=version, number=number, label=version.label, body=version.body, author=author
    )


class StaleDraft(ValidationError):
    """A save started from a revision that is no longer the draft's latest: someone else saved meanwhile.

    `current` is the revision saved since; the page shows it beside the text that was refused.
    """

    def __init__(self, version: DraftVersion, current: DraftRevision | None):
        self.current = current
        who = f"@{current.author.get_username()}" if current and current.author else "someone else"
        super().__init__(
            f"Draft {version.label} was saved by {who} after you opened it (revision "
            f"{current.number if current else 0}), so your text was not saved. Their text and yours are shown "
            "side by side: merge them in the form and save again.",
            code="stale",
        )


@transaction.atomic
def update_draft(
    *, version: DraftVersion, label: str, body: str, acting_user: "User", started_from: int | None = None
) -> DraftVersion:
    """Save a draft's text and label, kept whole as the draft's next revision.

    `started_from` is the number of the revision the editor started from (the edit page carries it); when the
    draft has been saved since, the save is refused with `StaleDraft` and nothing is written. None skips that
    check, for callers that edit no page, such as the demo seed.
    """
    version = _lock(version)
    _require_organizer(version.definition, acting_user)
    _require_draft(version)
    current = version.current_revision()
    number = current.number if current else 0
    if started_from is not None and started_from != number:
        raise StaleDraft(version, current)
    version.label, version.body = label, body
    version.full_clean()  # the label's shape and the body's length, before the body is rendered
    version.body_html = render_markdown(body)
    version.save(update_fields=["label", "body", "body_html"])
    _keep_revision(version, author=acting_user, number=number + 1)
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=Action.DRAFT_EDITED,
        subject=version,
        payload={"label": label, "revision": number + 1, "digest": version_digest(version, salted=True)},
    )
    waiting = version.suggestions.filter(status__in=[Suggestion.Status.PENDING, Suggestion.Status.ACCEPTED])
    _carry(waiting.filter(applied_at__isnull=True), version, acting_user)
    return version


@transaction.atomic
def publish_version(
    *, version: DraftVersion, release_notes: str, acting_user: "User", reviewed_digest: str | None = None
) -> DraftVersion:
    """Publish a draft with its release notes. From then on it never changes.

    `reviewed_digest` is the `version_digest` of the draft as the publish page showed it; when the text or the
    components changed since, the release is refused, so that what is published is what was reviewed. None skips
    that check, for callers that show no page, such as the demo seed.
    """
    version = _lock(version)
    _require_organizer(version.definition, acting_user)
    _require_draft(version)
    if reviewed_digest is not None and reviewed_digest != version_digest(version):
        raise ValidationError(
            gettext(
                "Draft %(label)s changed after this page was opened (its text or its components); nothing was "
                "published. Review it again below before publishing."
            )
            % {"label": version.label}
        )
    if not release_notes.strip():
        raise ValidationError(gettext("A release needs release notes."))
    release_notes_length(release_notes)
    empty = [c.key for c in version.components.filter(aggregate_rule__gt="", parts__isnull=True)]
    if empty:
        raise ValidationError(
            gettext("Aggregates without parts cannot be published: %(value)s.") % {"value": ", ".join(empty)}
        )
    version.release_notes, version.release_notes_html = release_notes, render_markdown(release_notes)
    version.status = DraftVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = acting_user
    version.save(update_fields=["release_notes", "release_notes_html", "status", "published_at", "published_by"])
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=Action.RELEASE_PUBLISHED,
        subject=version,
        payload={
            "definition": version.definition.slug,
            "label": version.label,
            "digest": version_digest(version),
            "salt": version.digest_salt,  # the draft's edits can now be checked
            "components": version.components.count(),
        },
    )
    definition = version.definition
    named = {"title": definition.title, "label": version.label, "who": _handle(acting_user)}
    with site_language():
        message = Message(
            Kind.FOLLOWED,
            f"release:{version.pk}",
            gettext("%(title)s %(label)s is published") % named,
            gettext("@%(who)s published %(label)s of %(title)s. Its release notes say what changed.") % named,
            version.get_absolute_url(),
        )
    notify(followers(definition).exclude(pk=acting_user.pk), message)
    release = version.as_announced() | {"digest": version_digest(version)}
    webhooks.emit(definition, Event.RELEASE_PUBLISHED, {"release": release})
    return version


# Components ----------------------------------------------------------------------------------


def _component_payload(component: Component) -> dict:
    return {
        "version": component.version.label,
        "key": component.key,
        "title": component.title,
        "category": component.category,
        "aggregate": {"rule": component.aggregate_rule, "of": sorted(p.key for p in component.parts.all())}
        if component.aggregate_rule
        else None,
    }


def _fold_category(component: Component, definition: Definition) -> None:
    """File the component under the definition's existing spelling of its category, if it has one.

    "model" beside "Model" is the same category: case, spacing, hyphens and underscores aside (`category_key`).
    """
    component.category = tidy_category(component.category)
    others = Component.objects.filter(version__definition=definition).exclude(pk=component.pk).categories()
    same = [name for name in others if category_key(name) == category_key(component.category)]
    if same:
        component.category = same[0]


def _save_component(
    component: Component, *, fields: dict, parts: list[Component], acting_user: "User", action: Action
) -> Component:
    """Each refusal names the field it is about, so that a form shows it there."""
    version = _lock(component.version)
    _require_organizer(version.definition, acting_user)
    _require_draft(version)
    for name, value in fields.items():
        setattr(component, name, value)
    if not component.key:
        component.key = slugify(component.title)[: Component._meta.get_field("key").max_length].strip("-")
        if not component.key:
            raise ValidationError({"key": "Give a key: none can be made from this title (letters and digits)."})
    _fold_category(component, version.definition)
    if component.aggregate_rule and not parts:
        raise ValidationError({"parts": "An aggregate needs at least one part."})
    if not component.aggregate_rule and parts:
        raise ValidationError({"aggregate_rule": "Choose a rule (sum or mean) to make this component an aggregate."})
    for part in parts:
        if part.version_id != version.pk or part.is_aggregate or part.pk == component.pk:
            raise ValidationError({"parts": f"{part.key} cannot be a part: parts are other, non-aggregate components."})
    if component.pk and component.aggregates.exists() and component.aggregate_rule:
        raise ValidationError(
            {"aggregate_rule": "A component that is part of an aggregate cannot itself be an aggregate."}
        )
    component.full_clean(exclude=["version"], validate_unique=False)
    if version.components.filter(key=component.key).exclude(pk=component.pk).exists():
        raise ValidationError(
            {"key": f"This version already has a component with key {component.key}; choose another key."}
        )
    component.save()
    component.parts.set(parts)
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=action,
        subject=component,
        payload=_component_payload(component),
    )
    return component


@transaction.atomic
def add_component(
    *, version: DraftVersion, fields: dict, parts: Sequence[Component] = (), acting_user: "User"
) -> Component:
    position = (version.components.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    component = Component(version=version, position=position)
    return _save_component(
        component, fields=fields, parts=list(parts), acting_user=acting_user, action=Action.COMPONENT_ADDED
    )


@transaction.atomic
def update_component(
    *, component: Component, fields: dict, parts: Sequence[Component] = (), acting_user: "User"
) -> Component:
    return _save_component(
        component, fields=fields, parts=list(parts), acting_user=acting_user, action=Action.COMPONENT_CHANGED
    )


@transaction.atomic
def remove_component(*, component: Component, acting_user: "User") -> None:
    version = _lock(component.version)
    _require_organizer(version.definition, acting_user)
    _require_draft(version)
    used_by = [a.key for a in component.aggregates.all()]
    if used_by:
        raise ValidationError(
            gettext("%(key)s is a part of %(value)s; remove it there first.")
            % {"key": component.key, "value": ", ".join(used_by)}
        )
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=Action.COMPONENT_REMOVED,
        subject=component,
        payload=_component_payload(component),
    )
    component.delete()


# Working groups ------------------------------------------------------------------------------


@transaction.atomic
def create_group(
    *, definition: Definition, key: str, name: str, description: str = "", acting_user: "User"
) -> WorkingGroup:
    _require_organizer(definition, acting_user)
    group = WorkingGroup(definition=definition, key=key, name=name, description=description)
    group.full_clean(validate_constraints=False)
    if definition.working_groups.filter(key=key).exists():
        raise ValidationError(gettext("A working group with key %(key)s already exists.") % {"key": key})
    group.save()
    record(
        stream=definition.audit_stream,
        actor=acting_user,
        action=Action.GROUP_CREATED,
        subject=group,
        payload={"key": key, "name": name},
    )
    return group


@transaction.atomic
def require_provider(*, group: WorkingGroup, provider: str, acting_user: "User") -> WorkingGroup:
    """Require of the group's members who vote an account of `provider` linked to theirs ("" requires none).

    Organizers decide it. Recorded in the definition's stream and in each ballot not yet closed that enrolls the
    group, as a roster change is, since it changes who votes there from now on; votes already cast stand.
    """
    _require_organizer(group.definition, acting_user)
    provider = provider.strip()
    offered = providers.configured()
    if provider and provider not in offered:
        known = ", ".join(offered) or "none is configured"
        raise ValidationError(f"“{provider[:40]}” is not a sign-in provider of this site ({known}).")
    streams = _rosters_in_line(group)
    group = WorkingGroup.objects.select_for_update().get(pk=group.pk)
    previous = group.required_provider
    if provider == previous:
        return group
    group.required_provider = provider
    group.save(update_fields=["required_provider"])
    for stream in [group.definition.audit_stream, *streams]:
        record(
            stream=stream,
            actor=acting_user,
            action=Action.GROUP_PROVIDER_CHANGED,
            subject=group,
            payload={"group": group.key, "provider": provider, "previous": previous},
        )
    return group


def _require_roster_manager(group: WorkingGroup, user: "User") -> None:
    if not group.can_manage_roster(user):
        raise PermissionDenied(gettext("Only the group's chairs and the organizers can change its roster."))


def _rosters_in_line(group: WorkingGroup) -> list[str]:
    """Take the place in line of the definition, then of each ballot not yet closed that enrolls `group`.

    A roster change is recorded in the stream of each such ballot too, so that a ballot's own record proves who
    may vote in it at any moment. Lines are always taken in this order (definition, then ballots, then the
    membership row: `cast_vote` takes a ballot's, then the voter's membership row), so nothing waits in a circle;
    the ballots are read again under their locks, so one closed meanwhile is left out.
    """
    lock_stream(group.definition.audit_stream)
    enrolling = group.ballots.exclude(status="closed").select_related("definition")  # a ballot's status, by value
    for stream in sorted(b.audit_stream for b in enrolling):
        lock_stream(stream)
    return sorted(b.audit_stream for b in enrolling.all())


def _record_roster_change(
    membership: Membership, streams: list[str], *, action: Action, payload: dict, acting_user: "User"
):
    for stream in [membership.group.definition.audit_stream, *streams]:
        record(stream=stream, actor=acting_user, action=action, subject=membership, payload=payload)


@transaction.atomic
def add_member(
    *, group: WorkingGroup, user: "User", role: str = Membership.Role.MEMBER, acting_user: "User"
) -> Membership:
    """Add `user` to the group's roster. Its chairs and the organizers do; a chair may appoint a co-chair.

    Only organizers remove a chair (`remove_member`), so chairs cannot push each other out.
    """
    _require_roster_manager(group, acting_user)
    return _join(group, user, role=role, acting_user=acting_user)


def _join(group: WorkingGroup, user: "User", *, role: str, acting_user: "User", tell: bool = True) -> Membership:
    """The roster change itself, once whoever asked may make it: recorded in the definition's stream and in
    each open enrolled ballot's (`_rosters_in_line`). Adding a member, accepting a request or an invitation.

    The member is told, unless they acted themselves or (`tell=False`) the caller tells them its own way."""
    if role not in Membership.Role.values:
        raise ValidationError(gettext("%(role)s is not a role; a member is a member or a chair.") % {"role": role})
    streams = _rosters_in_line(group)
    if group.memberships.current().filter(user=user).exists():
        raise ValidationError(
            gettext("%(handle)s is already a member of %(name)s.") % {"handle": user.get_username(), "name": group.name}
        )
    membership = Membership.objects.create(group=group, user=user, role=role)
    _record_roster_change(
        membership,
        streams,
        action=Action.MEMBERSHIP_JOINED,
        payload={"group": group.key, "member": user.get_username(), "role": role},
        acting_user=acting_user,
    )
    if tell and acting_user.pk != user.pk:
        named = {"who": _handle(acting_user), "group": group.name, "title": group.definition.title}
        with site_language():
            if role == Membership.Role.CHAIR:
                subject = gettext("You are now a chair of %(group)s") % named
                body = gettext("@%(who)s appointed you chair of the working group %(group)s of %(title)s.") % named
            else:
                subject = gettext("You are now a member of %(group)s") % named
                body = gettext("@%(who)s added you as a member of the working group %(group)s of %(title)s.") % named
            message = Message(
                Kind.MEMBERSHIP, f"membership:{membership.pk}:joined", subject, body, group.get_absolute_url()
            )
        notify([user], message)
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, acting_user: "User") -> Membership:
    streams = _rosters_in_line(membership.group)
    membership = (
        Membership.objects.select_for_update().select_related("group__definition", "user").get(pk=membership.pk)
    )
    _require_roster_manager(membership.group, acting_user)
    if membership.left_at is not None:
        raise ValidationError(
            gettext("%(handle)s has already left %(name)s.")
            % {"handle": membership.user.get_username(), "name": membership.group.name}
        )
    if membership.role == Membership.Role.CHAIR and not membership.group.definition.is_organizer(acting_user):
        raise PermissionDenied(gettext("Only organizers remove a chair."))
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    _record_roster_change(
        membership,
        streams,
        action=Action.MEMBERSHIP_LEFT,
        payload={"group": membership.group.key, "member": membership.user.get_username()},
        acting_user=acting_user,
    )
    if acting_user.pk != membership.user_id:
        group, role = membership.group, membership.role
        named = {"who": _handle(acting_user), "group": group.name, "title": group.definition.title}
        with site_language():
            if role == Membership.Role.CHAIR:
                subject = gettext("You are no longer a chair of %(group)s") % named
                body = (
                    gettext(
                        "@%(who)s took you off the roster of the working group %(group)s of %(title)s: you are no "
                        "longer "
                        "one of its chairs."
                    )
                    % named
                )
            else:
                subject = gettext("You are no longer a member of %(group)s") % named
                body = gettext("@%(who)s took you off the roster of the working group %(group)s of %(title)s.") % named
            message = Message(
                Kind.MEMBERSHIP, f"membership:{membership.pk}:left", subject, body, group.get_absolute_url()
            )
        notify([membership.user], message)
    return membership


# Joining a group: requests, invitations, many at once ----------------------------------------


def _handle(user: "User") -> str:
    return user.get_username()


@transaction.atomic
def request_to_join(*, group: WorkingGroup, user: "User | AnonymousUser", note: str = "") -> JoinRequest:
    """A signed-in person asks to join `group`, with an optional note to those who decide."""
    if not user.is_authenticated:
        raise PermissionDenied(gettext("Sign in to ask to join a working group."))
    lock_stream(group.definition.audit_stream)  # one request at a time per definition: no twin requests
    join_note_length(note)
    if group.memberships.current().filter(user=user).exists():
        raise ValidationError(gettext("You are already a member of %(name)s.") % {"name": group.name})
    if group.join_requests.pending().filter(user=user).exists():
        raise ValidationError(
            gettext("You have already asked to join %(name)s; its chairs or organizers will answer.")
            % {"name": group.name}
        )
    join_request = JoinRequest.objects.create(group=group, user=user, note=note.strip())
    record(
        stream=group.definition.audit_stream,
        actor=user,
        action=Action.JOIN_REQUESTED,
        subject=join_request,
        payload={"group": group.key, "member": _handle(user), "note": join_request.note},
    )
    chairs = group.memberships.current().filter(role=Membership.Role.CHAIR).values("user")
    deciders = get_user_model().objects.filter(Q(pk__in=chairs) | Q(organized_definitions=group.definition))
    named = {"who": _handle(user), "group": group.name, "title": group.definition.title, "note": join_request.note}
    with site_language():
        body = gettext("@%(who)s asks to join the working group %(group)s of %(title)s.") % named
        if join_request.note:
            body += "\n\n" + gettext("Their note: %(note)s") % named
        body += "\n\n" + gettext("Accept or decline the request on the group's page.")
        message = Message(
            Kind.JOIN_REQUEST,
            f"join-request:{join_request.pk}",
            gettext("@%(who)s asks to join %(group)s") % named,
            body,
            group.get_absolute_url(),
        )
    notify(deciders.exclude(pk=user.pk).distinct(), message)
    return join_request


@transaction.atomic
def decide_join_request(
    *, join_request: JoinRequest, accept: bool, reason: str = "", acting_user: "User"
) -> JoinRequest:
    """A chair of the group or an organizer accepts (the requester joins as a member) or declines, with a reason."""
    join_request = JoinRequest.objects.select_related("group__definition", "user").get(pk=join_request.pk)
    group = join_request.group
    _require_roster_manager(group, acting_user)
    lock_stream(group.definition.audit_stream)
    join_request = (
        JoinRequest.objects.select_for_update().select_related("group__definition", "user").get(pk=join_request.pk)
    )
    if join_request.status != JoinRequest.Status.PENDING:
        raise ValidationError(
            gettext("@%(handle)s's request was already %(status)s.")
            % {"handle": _handle(join_request.user), "status": join_request.get_status_display().lower()}
        )
    reason = reason.strip()
    decision_reason_length(reason)
    if not accept and not reason:
        raise ValidationError(gettext("Say why the request is declined; the requester reads the reason."))
    if accept:
        _join(group, join_request.user, role=Membership.Role.MEMBER, acting_user=acting_user, tell=False)
    join_request.status = JoinRequest.Status.ACCEPTED if accept else JoinRequest.Status.DECLINED
    join_request.decided_at, join_request.decided_by, join_request.reason = timezone.now(), acting_user, reason
    join_request.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    record(
        stream=group.definition.audit_stream,
        actor=acting_user,
        action=Action.JOIN_ACCEPTED if accept else Action.JOIN_DECLINED,
        subject=join_request,
        payload={"group": group.key, "member": _handle(join_request.user), "reason": reason},
    )
    if acting_user.pk != join_request.user_id:
        named = {"who": _handle(acting_user), "group": group.name, "title": group.definition.title, "reason": reason}
        with site_language():
            if accept:
                subject = gettext("Your request to join %(group)s was accepted") % named
                body = (
                    gettext(
                        "@%(who)s accepted your request: you are now a member of the working group %(group)s of "
                        "%(title)s."
                    )
                    % named
                )
            else:
                subject = gettext("Your request to join %(group)s was declined") % named
                body = (
                    gettext(
                        "@%(who)s declined your request to join the working group %(group)s of %(title)s.\n\n"
                        "Their reason: %(reason)s"
                    )
                    % named
                )
            message = Message(
                Kind.MEMBERSHIP, f"join-request:{join_request.pk}:decided", subject, body, group.get_absolute_url()
            )
        notify([join_request.user], message)
    return join_request


def normalize_email(address: str) -> str:
    """An address as invitations compare it: trimmed, in lower case (as allauth stores addresses)."""
    return address.strip().lower()


def _verified_account(email: str) -> "User | None":
    found = EmailAddress.objects.filter(email__iexact=email, verified=True, user__is_active=True).first()
    return found.user if found else None


@transaction.atomic
def invite_member(
    *, group: WorkingGroup, email: str, role: str = Membership.Role.MEMBER, site_url: str, acting_user: "User"
) -> Invitation:
    """Invite whoever reads `email` to join `group` as `role`: an e-mail with a link that works once.

    `site_url` is the site's scheme and host, for the link. The address is not written to the public audit log:
    the event names the group, the role and the invitation.
    """
    _require_roster_manager(group, acting_user)
    if role not in Membership.Role.values:
        raise ValidationError(gettext("%(role)s is not a role; a member is a member or a chair.") % {"role": role})
    email = normalize_email(email)
    validate_email(email)
    lock_stream(group.definition.audit_stream)
    account = _verified_account(email)
    if account is not None and group.memberships.current().filter(user=account).exists():
        raise ValidationError(
            gettext("%(email)s is already a member of %(name)s.") % {"email": email, "name": group.name}
        )
    if group.invitations.usable().filter(email=email).exists():
        raise ValidationError(
            gettext("%(email)s already has an invitation to %(name)s that is still open.")
            % {"email": email, "name": group.name}
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        group=group,
        email=email,
        role=role,
        token_digest=token_digest(token),
        invited_by=acting_user,
        expires_at=timezone.now() + timedelta(days=INVITATION_LIFETIME_DAYS),
    )
    record(
        stream=group.definition.audit_stream,
        actor=acting_user,
        action=Action.INVITATION_SENT,
        subject=invitation,
        payload={"group": group.key, "role": role, "expires_at": invitation.expires_at.isoformat()},
    )
    context = {
        "invitation": invitation,
        "group": group,
        "definition": group.definition,
        "inviter": acting_user.get_full_name() or f"@{_handle(acting_user)}",
        "link": site_url.rstrip("/") + reverse("deliberation:invitation", args=[token]),
    }
    with site_language():
        body = render_to_string("deliberation/invitation_email.txt", context)
        subject = gettext("Join %(group)s of %(title)s") % {"group": group.name, "title": group.definition.title}
    path = reverse("deliberation:invitation", args=[token])
    notify_address(email, Message(Kind.INVITATION, f"invitation:{invitation.pk}", subject, body, path))
    return invitation


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, acting_user: "User") -> Invitation:
    invitation = Invitation.objects.select_related("group__definition").get(pk=invitation.pk)
    _require_roster_manager(invitation.group, acting_user)
    lock_stream(invitation.group.definition.audit_stream)
    invitation = Invitation.objects.select_for_update().select_related("group__definition").get(pk=invitation.pk)
    if invitation.state != "open":
        raise ValidationError(
            gettext("This invitation is %(state)s and can no longer be revoked.")
            % {"state": pgettext("invitation", invitation.state)}
        )
    invitation.revoked_at, invitation.revoked_by = timezone.now(), acting_user
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    record(
        stream=invitation.group.definition.audit_stream,
        actor=acting_user,
        action=Action.INVITATION_REVOKED,
        subject=invitation,
        payload={"group": invitation.group.key, "role": invitation.role},
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token opens, whatever became of it."""
    if len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("group__definition", "invited_by")
        .filter(token_digest=token_digest(token))
        .first()
    )


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user: "User | AnonymousUser") -> Membership:
    """The invitee, signed in with the invited address verified, joins the group with the invitation's role."""
    if not user.is_authenticated:
        raise PermissionDenied(gettext("Sign in or sign up to accept the invitation."))
    group = Invitation.objects.select_related("group__definition").get(pk=invitation.pk).group
    lock_stream(group.definition.audit_stream)
    invitation = Invitation.objects.select_for_update().select_related("group__definition").get(pk=invitation.pk)
    if invitation.state != "open":
        raise ValidationError(
            gettext("This invitation is %(state)s; ask the group's chairs for a new one.")
            % {"state": pgettext("invitation", invitation.state)}
        )
    if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
        raise PermissionDenied(
            gettext(
                "This invitation was sent to %(email)s, which is not a verified address of @%(handle)s. Sign in "
                "with the account that has it, or add it to your account."
            )
            % {"email": invitation.email, "handle": _handle(user)}
        )
    membership = _join(group, user, role=invitation.role, acting_user=user)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        stream=group.definition.audit_stream,
        actor=user,
        action=Action.INVITATION_ACCEPTED,
        subject=invitation,
        payload={"group": group.key, "member": _handle(user), "role": invitation.role},
    )
    return membership


@dataclass(frozen=True)
class LineResult:
    """What became of one pasted line: accepted (added or invited) or refused, and why."""

    line: str
    accepted: bool
    message: str


@transaction.atomic
def add_members(
    *, group: WorkingGroup, text: str, role: str = Membership.Role.MEMBER, site_url: str, acting_user: "User"
) -> list[LineResult]:
    """Add many at once: one handle (`@` optional) or e-mail address per line. A known account is added; an
    address no verified account has is invited. Each line is done, with its audit events, or refused alone."""
    _require_roster_manager(group, acting_user)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValidationError(gettext("Paste one handle or e-mail address per line."))
    if len(lines) > BULK_LINES_MAX:
        raise ValidationError(
            gettext("At most %(BULK_LINES_MAX)s lines at once; this has %(count)s.")
            % {"BULK_LINES_MAX": BULK_LINES_MAX, "count": len(lines)}
        )
    results = []
    for line in lines:
        try:
            with transaction.atomic():
                results.append(_add_one(group, line, role=role, site_url=site_url, acting_user=acting_user))
        except ValidationError as exc:
            results.append(LineResult(line, False, " ".join(exc.messages)))
    return results


def _add_one(group: WorkingGroup, line: str, *, role: str, site_url: str, acting_user: "User") -> LineResult:
    if len(line) > 254:
        raise ValidationError(gettext("Too long for a handle or an e-mail address."))
    if "@" in line[1:]:
        account = _verified_account(normalize_email(line))
        if account is None:
            invite_member(group=group, email=line, role=role, site_url=site_url, acting_user=acting_user)
            return LineResult(line, True, f"No account has this address: invited to join as {role}.")
    else:
        handle = line.removeprefix("@")
        account = get_user_model().objects.filter(username__iexact=handle, is_active=True).first()
        if account is None:
            raise ValidationError(gettext("No account has the handle %(handle)s.") % {"handle": handle})
    _join(group, account, role=role, acting_user=acting_user)
    return LineResult(line, True, f"@{_handle(account)} added as {role}.")


# Comments ------------------------------------------------------------------------------------


@transaction.atomic
def post_comment(
    *,
    author: "User | AnonymousUser",
    version: DraftVersion,
    body: str,
    component: Component | None = None,
    parent: Comment | None = None,
    lines: tuple[int, int] | None = None,
    suggestion: Suggestion | None = None,
) -> Comment:
    """Comment on a version, one of its components, a passage of its text (`lines`, first and last) or a
    suggestion on it; the passage's lines are kept as they read now."""
    if not author.is_authenticated:
        raise PermissionDenied(gettext("Sign in to comment."))
    if not body.strip():
        raise ValidationError(gettext("A comment cannot be empty."))
    comment_length(body)
    if component is not None and component.version_id != version.pk:
        raise ValidationError(gettext("That component belongs to another version."))
    if suggestion is not None and (suggestion.version_id != version.pk or component is not None):
        raise ValidationError(gettext("That suggestion is on another version."))
    passage = _passage(version, *lines) if lines is not None else ""
    if parent is not None:
        if (
            parent.version_id != version.pk
            or parent.component_id != (component.pk if component else None)
            or parent.suggestion_id != (suggestion.pk if suggestion else None)
        ):
            raise ValidationError(gettext("A reply goes in the same thread as the comment it answers."))
        parent = parent.parent or parent  # replies are one level deep
    mentioned = _mentioned(body)
    comment = Comment.objects.create(
        version=version,
        component=component,
        suggestion=suggestion,
        parent=parent,
        author=author,
        body=body,
        body_html=render_comment(body, mentioned),
        line_from=lines[0] if lines else None,
        line_to=lines[1] if lines else None,
        passage=passage,
    )
    payload: dict[str, Any] = {
        "version": version.label,
        "component": component.key if component else None,
        "parent": parent.pk if parent else None,
    }
    if lines is not None:
        payload["lines"] = list(lines)
    if suggestion is not None:
        payload["suggestion"] = suggestion.pk
    record(
        stream=version.definition.audit_stream,
        actor=author,
        action=Action.COMMENT_POSTED,
        subject=comment,
        payload=payload,
    )
    _notify_about_comment(comment, mentioned)
    return comment


# Passages and suggested changes --------------------------------------------------------------


def _passage(version: DraftVersion, first: int, last: int) -> str:
    """The lines `first`..`last` of the version's text as they read now; refused when outside it or too long."""
    try:
        text = lines.passage(version.body, first, last)
    except lines.OutOfRange as exc:
        raise ValidationError(str(exc), code="out_of_range") from exc
    if last - first + 1 > PASSAGE_MAX_LINES:
        raise ValidationError(
            gettext("A passage spans at most %(PASSAGE_MAX_LINES)s lines; this one spans %(count)s.")
            % {"PASSAGE_MAX_LINES": PASSAGE_MAX_LINES, "count": last - first + 1}
        )
    return text


def _require_reader(version: DraftVersion, user: "User | AnonymousUser") -> None:
    """Signed in and able to see the version: who may comment on it may suggest changes to it."""
    if not user.is_authenticated:
        raise PermissionDenied(gettext("Sign in to suggest a change."))
    if not DraftVersion.objects.visible_to(user).filter(pk=version.pk).exists():
        raise PermissionDenied(gettext("Only the organizers see this draft."))


def _lock_suggestion(suggestion: Suggestion) -> Suggestion:
    return Suggestion.objects.select_for_update().select_related("version__definition", "author").get(pk=suggestion.pk)


@transaction.atomic
def suggest_change(
    *, version: DraftVersion, line_from: int, line_to: int, replacement: str, reason: str, author: "User"
) -> Suggestion:
    """Propose `replacement` for lines `line_from`..`line_to` of an open draft, saying why."""
    _require_reader(version, author)
    version = _lock(version)
    _require_draft(version)
    original = _passage(version, line_from, line_to)
    if not reason.strip():
        raise ValidationError(gettext("Say why the passage should change."))
    suggestion_reason_length(reason)
    suggestion_length(replacement)
    if replacement.split("\n") == original.split("\n") or replacement.splitlines() == original.splitlines():
        raise ValidationError(
            gettext("The replacement reads as the passage does; change it, or comment on the passage.")
        )
    suggestion = Suggestion.objects.create(
        version=version,
        line_from=line_from,
        line_to=line_to,
        original=original,
        replacement=replacement,
        reason=reason,
        author=author,
    )
    record(
        stream=version.definition.audit_stream,
        actor=author,
        action=Action.SUGGESTION_MADE,
        subject=suggestion,
        payload={"version": version.label, "lines": [line_from, line_to]},
    )
    return suggestion


@transaction.atomic
def support_suggestion(*, suggestion: Suggestion, user: "User") -> Support:
    """Say one supports a pending suggestion of someone else's: once each."""
    _require_reader(suggestion.version, user)
    suggestion = _lock_suggestion(suggestion)
    if not suggestion.is_pending:
        raise ValidationError(
            gettext("Suggestion %(pk)s is %(status)s and is no longer supported.")
            % {"pk": suggestion.pk, "status": suggestion.get_status_display().lower()}
        )
    if suggestion.author_id == user.pk:
        raise ValidationError(gettext("Your own suggestion counts as yours already; others may support it."))
    if suggestion.supports.filter(user=user).exists():
        raise ValidationError(gettext("You already support suggestion %(pk)s.") % {"pk": suggestion.pk})
    support = Support.objects.create(suggestion=suggestion, user=user)
    record(
        stream=suggestion.version.definition.audit_stream,
        actor=user,
        action=Action.SUGGESTION_SUPPORTED,
        subject=suggestion,
        payload={"version": suggestion.version.label, "supporters": suggestion.supports.count()},
    )
    return support


@transaction.atomic
def decide_suggestion(*, suggestion: Suggestion, accept: bool, reason: str = "", acting_user: "User") -> Suggestion:
    """An organizer accepts a pending suggestion on the open draft, or declines it with a reason."""
    suggestion = _lock_suggestion(suggestion)
    _require_organizer(suggestion.version.definition, acting_user)
    _require_draft(suggestion.version)
    if not suggestion.is_pending:
        raise ValidationError(
            gettext("Suggestion %(pk)s is already %(status)s.")
            % {"pk": suggestion.pk, "status": suggestion.get_status_display().lower()}
        )
    if not accept and not reason.strip():
        raise ValidationError(gettext("Say why the suggestion is declined; the reason is shown with it."))
    decision_reason_length(reason)
    suggestion.status = Suggestion.Status.ACCEPTED if accept else Suggestion.Status.DECLINED
    suggestion.decided_at, suggestion.decided_by, suggestion.decision_reason = timezone.now(), acting_user, reason
    suggestion.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    record(
        stream=suggestion.version.definition.audit_stream,
        actor=acting_user,
        action=Action.SUGGESTION_ACCEPTED if accept else Action.SUGGESTION_DECLINED,
        subject=suggestion,
        payload={"version": suggestion.version.label, "author": _handle(suggestion.author), "reason": reason},
    )
    return suggestion


@transaction.atomic
def consolidate_suggestions(*, version: DraftVersion, acting_user: "User") -> list[Suggestion]:
    """Apply every accepted suggestion to the open draft in one save (`update_draft`, so it is a revision).

    Refused, writing nothing, when two accepted suggestions change the same line or when an accepted one's
    passage no longer reads as it did. Applied from the bottom up, so each passage's line numbers hold.
    """
    version = _lock(version)
    _require_organizer(version.definition, acting_user)
    _require_draft(version)
    accepted = list(version.suggestions.to_consolidate().select_related("author").select_for_update(of=("self",)))
    if not accepted:
        raise ValidationError(gettext("No accepted suggestion is waiting to be applied."))
    for s in accepted:
        try:
            current = lines.passage(version.body, s.line_from, s.line_to)
        except lines.OutOfRange:
            current = None
        if current != s.original:
            raise ValidationError(
                gettext(
                    "The passage of suggestion %(pk)s (lines %(line_from)s–%(line_to)s) no longer reads as it did; "
                    "nothing was applied."
                )
                % {"pk": s.pk, "line_from": s.line_from, "line_to": s.line_to}
            )
    changes = [lines.Change(s.pk, s.line_from, s.line_to, s.replacement) for s in accepted]
    if clash := lines.overlapping(changes):
        a, b = clash
        raise ValidationError(
            gettext(
                "Accepted suggestions %(key)s (lines %(first)s–%(last)s) and %(key2)s (lines %(first2)s–%(last2)s) "
                "change the same lines; nothing was applied. Reopen the draft's text and merge them by hand."
            )
            % {"key": a.key, "first": a.first, "last": a.last, "key2": b.key, "first2": b.first, "last2": b.last}
        )
    body, placed = lines.apply(version.body, changes)
    now = timezone.now()
    for s in accepted:
        s.applied_at, (s.applied_from, s.applied_to) = now, placed[s.pk]
    Suggestion.objects.bulk_update(accepted, ["applied_at", "applied_from", "applied_to"])
    version = update_draft(version=version, label=version.label, body=body, acting_user=acting_user)
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=Action.SUGGESTIONS_CONSOLIDATED,
        subject=version,
        payload={
            "version": version.label,
            "revision": revision.number if (revision := version.current_revision()) else None,
            "suggestions": [
                {"suggestion": s.pk, "author": _handle(s.author), "lines": [s.line_from, s.line_to]} for s in accepted
            ],
        },
    )
    return accepted


def _carry(suggestions, version: DraftVersion, acting_user: "User") -> None:
    """Anchor waiting suggestions in `version`'s text: where its passage still reads the same (nearest its old
    place), it moves there; where it does not, it is outdated. One event says what moved and what was outdated."""
    carried, outdated = [], []
    for s in suggestions.select_for_update():
        start = lines.find(version.body, s.original, near=s.line_from)
        if start is None:
            s.status = Suggestion.Status.OUTDATED
            outdated.append(s)
        elif (start, s.version_id) != (s.line_from, version.pk):
            s.line_to, s.line_from, s.version = start + s.line_to - s.line_from, start, version
            carried.append(s)
    if not carried and not outdated:
        return
    Suggestion.objects.bulk_update(carried + outdated, ["version", "line_from", "line_to", "status"])
    record(
        stream=version.definition.audit_stream,
        actor=acting_user,
        action=Action.SUGGESTIONS_CARRIED,
        subject=version,
        payload={
            "version": version.label,
            "carried": [{"suggestion": s.pk, "lines": [s.line_from, s.line_to]} for s in carried],
            "outdated": [s.pk for s in outdated],
        },
    )


# Who a comment tells: the author of the comment it replies to, and the people it mentions (`@handle`).
MENTIONS_NOTIFIED_MAX = 20  # the first 20 handles a comment mentions are looked up, linked and told; later ones not
QUOTE_MAX = 200  # characters of the comment a notification quotes


def _mentioned(body: str) -> dict[str, "User"]:
    """The accounts of the first MENTIONS_NOTIFIED_MAX handles `body` mentions, by the handle as written."""
    written = mentions(body)[:MENTIONS_NOTIFIED_MAX]
    if not written:
        return {}
    by_lower = {h.lower(): h for h in written}
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(handle_lower=Lower("username"))
        .filter(handle_lower__in=list(by_lower))
    )
    return {by_lower[user.handle_lower]: user for user in users}


def mention_link(user: "User") -> str:
    """Where a mention of `user` leads: what they did here, in the public audit log (Plenary has no profiles)."""
    return reverse("audit:log") + "?" + urlencode({"actor": user.get_username()})


def render_comment(body: str, mentioned: dict[str, "User"]) -> str:
    """A comment's HTML: its Markdown, with each mention of an account linked to that person's page."""
    return render_markdown(body, mention_links={h: mention_link(u) for h, u in mentioned.items()})


def comment_path(comment: Comment) -> str:
    """The address of a comment in its discussion."""
    return comment.get_absolute_url()


def _quote(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1].rstrip() + "…"


def _notify_about_comment(comment: Comment, mentioned: dict[str, "User"]) -> None:
    """Tell the author replied to and each person mentioned (never the comment's own author), in this transaction.

    Only people who may read the comment are told: on a draft in progress, its organizers. Each is told once:
    the author replied to is not told again of a mention in the reply. The notification quotes the new comment
    only, never the one it replies to (which may be hidden), and at most QUOTE_MAX characters of it.
    """
    version, author = comment.version, comment.author
    handle, where = f"@{author.get_username()}", f"{version.definition.title} {version.label}"
    readers = _readers(version, [comment.parent.author] if comment.parent else [], mentioned.values())
    quoted, path, key = _quote(comment.body), comment_path(comment), f"comment:{comment.pk}"
    replied_to = comment.parent.author if comment.parent and comment.parent.author_id != author.pk else None
    named = {"who": handle, "where": where}
    if replied_to is not None and replied_to.pk in readers:
        with site_language():
            subject = gettext("%(who)s replied to your comment on %(where)s") % named
        notify([replied_to], Message(Kind.REPLY, key, subject, quoted, path))
    told = {author.pk, replied_to.pk if replied_to else None}
    mentioned_readers = [u for u in mentioned.values() if u.pk in readers and u.pk not in told]
    with site_language():
        subject = gettext("%(who)s mentioned you on %(where)s") % named
    notify(mentioned_readers, Message(Kind.MENTION, key, subject, quoted, path))


def _hider(comment: Comment) -> str:
    return comment.hidden_by.get_username() if comment.hidden_by is not None else "an organizer"


def _unquote_in_notifications(comment: Comment) -> None:
    """A comment hidden: the notifications about it stop quoting it, in the inbox and in e-mails not yet sent."""
    rewrite_body(
        kinds=[Kind.REPLY, Kind.MENTION],
        key=f"comment:{comment.pk}",
        body=f"This comment was hidden by @{_hider(comment)}: {comment.hidden_reason}",
    )


def _readers(version: DraftVersion, *people) -> set[int]:
    """The ids of those among `people` who may read the version's discussion (`DraftVersion.visible_to`)."""
    ids = {user.pk for group in people for user in group}
    if version.is_published or version.definition.drafts_open or not ids:
        return ids
    return set(version.definition.organizers.filter(pk__in=ids).values_list("pk", flat=True))


@transaction.atomic
def edit_comment(*, comment: Comment, body: str, acting_user: "User") -> Comment:
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.author_id != acting_user.pk:
        raise PermissionDenied(gettext("Only its author can edit a comment."))
    if comment.is_hidden:
        raise ValidationError(gettext("A hidden comment can no longer be edited."))
    if not body.strip():
        raise ValidationError(gettext("A comment cannot be empty."))
    comment_length(body)
    if body == comment.body:
        return comment
    CommentRevision.objects.create(
        comment=comment, body=comment.body, written_at=comment.edited_at or comment.created_at
    )
    comment.body, comment.body_html, comment.edited_at = body, render_comment(body, _mentioned(body)), timezone.now()
    comment.save(update_fields=["body", "body_html", "edited_at"])
    record(
        stream=comment.version.definition.audit_stream,
        actor=acting_user,
        action=Action.COMMENT_EDITED,
        subject=comment,
        payload={"revisions": comment.revisions.count()},
    )
    return comment


@transaction.atomic
def hide_comment(*, comment: Comment, reason: str, acting_user: "User") -> Comment:
    comment = Comment.objects.select_for_update().select_related("version__definition").get(pk=comment.pk)
    _require_organizer(comment.version.definition, acting_user)
    if comment.is_hidden:
        raise ValidationError(gettext("This comment is already hidden."))
    if not reason.strip():
        raise ValidationError(gettext("Say why the comment is hidden; the reason is shown in its place."))
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = timezone.now(), acting_user, reason
    comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _unquote_in_notifications(comment)
    record(
        stream=comment.version.definition.audit_stream,
        actor=acting_user,
        action=Action.COMMENT_HIDDEN,
        subject=comment,
        payload={"author": comment.author.get_username(), "reason": reason},
    )
    return comment


# A person's calendar address -----------------------------------------------------------------
# A person's own setting, like their e-mail addresses and password (allauth's): not an event of any definition or
# ballot, so not written to the audit log, which has streams for definitions and ballots only.


@transaction.atomic
def create_calendar_token(*, user: "User") -> str:
    """A new secret calendar address for `user`, replacing the one they had, whose link then finds nothing.

    Returns the token, for the page to show once: only its digest is kept.
    """
    if not user.is_authenticated:
        raise PermissionDenied(gettext("Sign in to get a calendar address."))
    token = secrets.token_urlsafe(32)
    CalendarToken.objects.update_or_create(
        user=user, defaults={"token_digest": token_digest(token), "created_at": timezone.now()}
    )
    return token


@transaction.atomic
def revoke_calendar_token(*, user: "User") -> bool:
    """`user`'s calendar address stops working; False if they had none."""
    deleted, _ = CalendarToken.objects.filter(user=user).delete()
    return bool(deleted)
