"""Who may see and do what on a ballot: the gates and reads that views, the API and services all go through.

Nothing here writes. The services import this module, never the reverse; `VotingRights` is what the vote
grid offers and what `services.cast_vote` enforces, with the same refusals.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, Value
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext

from deliberation import providers
from deliberation.models import Component, Membership, MembershipQuerySet, WorkingGroup

from .models import Ballot, Choice, Criterion, VetoGrant, Vote

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

ON_BEHALF_REFUSED = "Only organizers vote on another member's behalf."
CHOOSE_GROUP = "You belong to several enrolled groups: choose the group you vote for."


def get_ballot(slug: str, key: str) -> Ballot:
    """Ballots are held on published versions and are public: 404 only for what does not exist.

    Every page of a ballot, its API and its downloads read it here, so here a ballot whose opening or closing
    time has passed is first moved on (`services.apply_schedule`, the one write this module starts): with no
    scheduler running, reading the ballot is what opens and closes it on time.
    """
    ballot = get_object_or_404(
        Ballot.objects.select_related("definition", "version", "created_by"), definition__slug=slug, key=key
    )
    if ballot.transition_due() is not None:
        from .services import apply_schedule  # services import this module: the one way back, for this write

        ballot = apply_schedule(ballot)
    return ballot


def eligible_memberships(ballot: Ballot) -> MembershipQuerySet:
    """The current memberships in the groups enrolled in the ballot that give a vote in it: who may vote, decided here.

    Under a frozen roster (`Ballot.Eligibility.FROZEN`), only a membership held since before voting opened
    counts: a member added later, or who left and came back, does not vote on this ballot.
    """
    memberships = Membership.objects.current().filter(group__in=ballot.groups.all())
    if ballot.roster_frozen_at is not None:
        memberships = memberships.filter(joined_at__lte=ballot.roster_frozen_at)
    return memberships


@dataclass(frozen=True)
class Progress:
    """A voter's progress on one ballot: their current votes, of the cells (leaf components × criteria)."""

    ballot: Ballot
    voted: int
    cells: int


PROGRESS_BALLOTS_MAX = 50  # open ballots one person's home page lists


def voting_progress(user: "User | AnonymousUser") -> list[Progress]:
    """The open ballots accepting votes in which `user` has a vote (`eligible_memberships`), with their progress.

    Five queries however many ballots: the candidates (`Ballot.objects.open_enrolling`), which of them give the
    user a vote (each ballot's `eligible_memberships`, in one UNION), and the counts of votes, leaves and criteria.
    """
    candidates = [
        b
        for b in Ballot.objects.open_enrolling(user)
        .select_related("definition", "version")
        .order_by("closes_at", "title", "pk")[:PROGRESS_BALLOTS_MAX]
        if b.accepts_votes()
    ]
    if not candidates:
        return []
    gates = [
        eligible_memberships(b).filter(user=user).order_by().values_list(Value(b.pk, output_field=IntegerField()))
        for b in candidates
    ]
    voting = {pk for (pk,) in gates[0].union(*gates[1:])}
    ballots = [b for b in candidates if b.pk in voting]
    if not ballots:
        return []
    voted = dict(
        Vote.objects.filter(ballot__in=ballots, voter_id=user.pk)
        .order_by()
        .values_list("ballot")
        .annotate(n=Count("pk"))
    )
    leaves = dict(
        Component.objects.filter(version__in={b.version_id for b in ballots})
        .leaves()
        .order_by()
        .values_list("version")
        .annotate(n=Count("pk"))
    )
    criteria = dict(
        Criterion.objects.filter(ballot__in=ballots).order_by().values_list("ballot").annotate(n=Count("pk"))
    )
    return [Progress(b, voted.get(b.pk, 0), leaves.get(b.version_id, 0) * criteria.get(b.pk, 0)) for b in ballots]


def eligible_roster(ballot: Ballot) -> dict[str, list[str]]:
    """Each enrolled group's members who may vote, as handles: when it closed once closed, else now.

    The base of a majority "of the eligible" and of a quorum (`plenary_tally.majority`), written in ballot.json.
    """
    if ballot.status == Ballot.Status.CLOSED and ballot.closed_at is not None:
        memberships = Membership.objects.filter(group__in=ballot.groups.all()).at(ballot.closed_at)
        if ballot.roster_frozen_at is not None:
            memberships = memberships.filter(joined_at__lte=ballot.roster_frozen_at)
    else:
        memberships = eligible_memberships(ballot)
    result: dict[str, list[str]] = {key: [] for key in ballot.groups.values_list("key", flat=True)}
    for group, handle in memberships.order_by().values_list("group__key", "user__username"):
        result[group].append(handle)
    return {group: sorted(handles) for group, handles in result.items()}


def voting_memberships(ballot: Ballot, user: "User") -> MembershipQuerySet:
    """The user's memberships that give a vote in the ballot (`eligible_memberships`), by group name."""
    # one per group: ordered by the group's name alone, not by Membership's ordering, which joins two more tables
    return eligible_memberships(ballot).filter(user=user).select_related("group").order_by("group__name", "group_id")


def joined_too_late(ballot: Ballot, user: "User | AnonymousUser") -> list[Membership]:
    """The user's current memberships in enrolled groups that a frozen roster leaves out: joined after opening."""
    if not user.is_authenticated or ballot.roster_frozen_at is None:
        return []
    memberships = Membership.objects.current().filter(user=user, group__in=ballot.groups.all())
    return list(memberships.filter(joined_at__gt=ballot.roster_frozen_at).select_related("group"))


def frozen_out(ballot: Ballot, memberships: list[Membership], handle: str | None = None) -> str:
    """Why these memberships give no vote: the frozen roster's rule, in the words the pages and cast_vote use.
    Said to the voter, or, with `handle`, of the member someone votes for."""
    named = {
        "groups": ", ".join(m.group.name for m in memberships),
        "opened": date_format(ballot.opened_at.astimezone(UTC), "DATETIME_FORMAT") if ballot.opened_at else "",
        "handle": handle,
    }
    if handle is None:
        said = gettext(
            "You joined %(groups)s after voting opened on %(opened)s UTC: this ballot's roster was frozen when "
            "voting opened, so only those who were members then vote on it."
        )
    else:
        said = gettext(
            "@%(handle)s joined %(groups)s after voting opened on %(opened)s UTC: this ballot's roster was frozen "
            "when voting opened, so only those who were members then vote on it."
        )
    return said % named


def may_dispute(ballot: Ballot, user: "User | AnonymousUser") -> bool:
    """Members of any of the definition's working groups, and its organizers."""
    if not user.is_authenticated:
        return False
    is_member = Membership.objects.current().filter(user=user, group__definition=ballot.definition).exists()
    return is_member or ballot.definition.is_organizer(user)


def roster(ballot: Ballot, at: datetime | None = None) -> dict[str, list[dict]]:
    """Each enrolled group's members at `at` (now by default), as plain data."""
    memberships = Membership.objects.filter(group__in=ballot.groups.all()).select_related("group", "user")
    memberships = memberships.at(at) if at else memberships.current()
    result: dict[str, list[dict]] = {g.key: [] for g in ballot.groups.all()}
    for m in memberships.order_by("group__key", "user__username"):
        result[m.group.key].append({"member": m.user.get_username(), "role": m.role})
    return result


def check_on_behalf(ballot: Ballot, acting_user: "User | AnonymousUser") -> None:
    """Only the definition's organizers act for another member; asked before the member is looked up."""
    if not ballot.definition.is_organizer(acting_user):
        raise PermissionDenied(ON_BEHALF_REFUSED)


def get_voter(ballot: Ballot, acting_user: "User", handle: str | None) -> "User":
    """Whose vote the acting user saves: their own (no handle, or their own), or, for an organizer, the member's
    with that handle (a 404 for no one); anyone else is refused before any member is looked up."""
    if handle is None or handle == acting_user.get_username():
        return acting_user
    check_on_behalf(ballot, acting_user)
    return get_object_or_404(get_user_model(), username=handle)


class VotingRights:
    """What `voter` may do on `ballot`, with `acting_user` (the voter by default) at the keyboard.

    The groups they vote for, the restricted choices their grants open, and whether the person acting may act
    for them. Memberships are read on first use, grants once the group is known: `cast_vote` reads the
    memberships before taking the ballot's place in line and the grants under it.
    """

    def __init__(
        self,
        ballot: Ballot,
        voter: "User | AnonymousUser",
        acting_user: "User | AnonymousUser | None" = None,
        memberships: list[Membership] | None = None,
    ) -> None:
        """`memberships`: the voter's `voting_memberships`, when the caller has just read them for this ballot."""
        self.ballot, self.voter, self.acting_user = ballot, voter, acting_user or voter
        if memberships is not None:
            self.memberships = memberships
        self.group: WorkingGroup | None = None  # the group voted for, once chosen
        self.other_group = ""  # a group asked for that the voter does not vote for

    @cached_property
    def _memberships(self) -> tuple[list[Membership], list[Membership]]:
        """The voter's `voting_memberships`, in one query: those they vote through, and those they would but for
        the sign-in provider's account their group requires and they have not linked (docs/sign-in.md)."""
        if not self.voter.is_authenticated:
            return [], []
        found = list(voting_memberships(self.ballot, self.voter).annotate_identified())
        return [m for m in found if m.identified], [m for m in found if not m.identified]

    @cached_property
    def memberships(self) -> list[Membership]:
        """The memberships through which the voter votes."""
        return self._memberships[0]

    @property
    def unidentified(self) -> list[Membership]:
        """The voter's memberships that would give a vote, but for the provider account their group requires."""
        return self._memberships[1]  # read again only to explain a refusal, where the caller gave `memberships`

    @cached_property
    def identity_missing(self) -> str:
        """Why the voter does not vote for some of their groups (a provider account not linked), and how to, or ""."""
        if not self.unidentified:
            return ""
        names = {m.group.required_provider: providers.name(m.group.required_provider) for m in self.unidentified}
        groups = " and ".join(m.group.name for m in self.unidentified)
        accounts = " or ".join(f"a linked {n} account" for n in names.values())
        whose = "your" if self.who == "You" else f"{self.who}'s"
        return (
            f"{groups} requires its members to vote with {accounts}, and {whose} account has none: link it on "
            f"{whose} account's connections page ({reverse('socialaccount_connections')}), then vote."
        )

    @property
    def can_vote(self) -> bool:
        return bool(self.memberships)

    def check_acting_user(self) -> None:
        if self.acting_user.pk != self.voter.pk:
            check_on_behalf(self.ballot, self.acting_user)

    @cached_property
    def voted_for(self) -> Membership | None:
        """The membership the voter's current votes on this ballot are cast through, if they have any.

        A member of one enrolled group has nothing to choose, so nothing is read; a member of several has chosen
        with their first vote, and every later vote counts for that group too (`membership`).
        """
        if len(self.memberships) < 2:
            return None
        group_id = (
            self.ballot.votes.filter(voter_id=self.voter.pk).order_by().values_list("group_id", flat=True).first()
        )
        return next((m for m in self.memberships if m.group_id == group_id), None)

    @property
    def must_choose(self) -> bool:
        """A member of several enrolled groups who has not voted yet says first which group they vote for."""
        return len(self.memberships) > 1 and self.voted_for is None

    def choose_group(self, key: str | None) -> WorkingGroup | None:
        """The grid's choice: the group already voted for, else the group asked for, else the only one.

        None when the voter is in no enrolled group, or in several and has neither voted nor asked for one
        (`must_choose`). A group asked for that the voter may not vote for is kept in `other_group`: the grid
        refuses a save for it (`refusal`) and never saves it under another group instead.
        """
        chosen = [m for m in self.memberships if m.group.key == key]
        if self.voted_for is not None:
            membership: Membership | None = self.voted_for
            self.other_group = key if key and key != self.voted_for.group.key else ""
        else:
            self.other_group = key if key and not chosen else ""
            alone = self.memberships if len(self.memberships) == 1 else []
            membership = next(iter(chosen or alone), None)
        self.group = membership.group if membership else None
        return self.group

    @property
    def who(self) -> str | None:
        """The voter's handle when someone else votes for them; None when they vote themselves."""
        return None if self.acting_user.pk == self.voter.pk else self.voter.get_username()

    @cached_property
    def frozen_out(self) -> str:
        """Why the voter has no vote although they are a member now (the frozen roster), or ""."""
        late = joined_too_late(self.ballot, self.voter) if not self.memberships else []
        return frozen_out(self.ballot, late, self.who) if late else ""

    def refusal(self) -> str:
        """Why a save for the group asked for (`choose_group`) is refused, in the words `cast_vote` uses."""
        if not self.other_group:
            return ""
        asked = next((m.group for m in self.memberships if m.group.key == self.other_group), None)
        if asked is not None and self.voted_for is not None:
            return self.voting_for_another(asked)
        return self.not_voting_for(f"“{self.other_group}”")

    def membership(self, group: WorkingGroup | None) -> Membership:
        """The membership a vote is cast through, for `group` (or the voter's only group); refused otherwise."""
        handle = self.voter.get_username()
        if not self.memberships:
            if self.frozen_out:  # a member added after opening, under a frozen roster
                raise PermissionDenied(self.frozen_out)
            if self.identity_missing:  # a member of a group requiring a provider account they have not linked
                raise PermissionDenied(self.identity_missing)
            raise PermissionDenied(
                gettext("@%(handle)s is not a member of a working group enrolled in this ballot.") % {"handle": handle}
            )
        membership: Membership | None
        if group is None:
            if self.must_choose:
                raise ValidationError(CHOOSE_GROUP)
            membership = self.voted_for or self.memberships[0]
        else:
            membership = next((m for m in self.memberships if m.group == group), None)
            if membership is None and any(m.group == group for m in self.unidentified):
                raise PermissionDenied(self.identity_missing)
            if membership is None:
                raise PermissionDenied(self.not_voting_for(group.name))
            if self.voted_for is not None and self.voted_for != membership:
                raise PermissionDenied(self.voting_for_another(group))
        frozen_at = self.ballot.roster_frozen_at  # the ballot as cast_vote locked it: it may have opened since
        if frozen_at is not None and membership.joined_at > frozen_at:
            raise PermissionDenied(frozen_out(self.ballot, [membership], self.who))
        self.group = membership.group
        return membership

    def not_voting_for(self, group: str) -> str:
        """Why a vote for `group` (its name, or a key asked for) is refused: the grid and cast_vote say it alike."""
        return f"@{self.voter.get_username()} does not vote for {group} in this ballot."

    def voting_for_another(self, group: WorkingGroup) -> str:
        """Why a vote for `group` is refused once the voter's votes count for another of their groups."""
        assert self.voted_for is not None  # only said once they have voted
        voted = self.voted_for.group.name
        return (
            f"@{self.voter.get_username()} votes for {voted} in this ballot: a member of several groups votes for "
            f"one, chosen with their first vote, and a vote is never moved to another group. This vote for "
            f"{group.name} was not saved; to vote for {group.name} instead, first withdraw every vote for {voted}."
        )

    @cached_property
    def grants(self) -> list[VetoGrant]:
        """The active grants the voter holds for the chosen group: to them, or to the group."""
        if self.group is None:
            return []
        return list(self.ballot.grants.active().held_by(self.voter, self.group).order_by("pk"))

    def grant_for(self, choice: Choice, component: Component) -> VetoGrant | None:
        """The grant that lets the voter use the restricted `choice` on `component`, if they hold one."""
        return next(
            (g for g in self.grants if g.choice_id == choice.pk and g.category in ("", component.category)), None
        )

    def allows(self, choice: Choice, component: Component) -> bool:
        return not choice.requires_grant or self.grant_for(choice, component) is not None

    def choices_for(self, choices: list[Choice], component: Component) -> list[Choice]:
        """The choices of the scale offered on `component`: the open ones, and the restricted ones granted."""
        return [c for c in choices if self.allows(c, component)]

    def restricted_choices(self, choices: list[Choice]) -> list[Choice]:
        """The restricted choices the voter holds a grant for, on some component at least."""
        granted = {g.choice_id for g in self.grants}
        return [c for c in choices if c.requires_grant and c.pk in granted]

    def check_choice(self, choice: Choice, component: Component, vote: Vote | None) -> VetoGrant | None:
        """The grant the vote is cast with (None for an open choice); refused when a restricted one is not held."""
        if not choice.requires_grant:
            return None
        grant = self.grant_for(choice, component)
        if grant is None and vote and vote.grant_id and vote.choice_id == choice.pk:
            raise PermissionDenied(
                gettext(
                    "The veto grant for “%(label)s” was revoked: the vote cast with it stands as it is, but it can "
                    "no longer be cast or edited. Choose another choice, or withdraw the vote."
                )
                % {"label": choice.label}
            )
        if grant is None:
            raise PermissionDenied(
                gettext("“%(label)s” is restricted: only holders of a veto grant may use it here.")
                % {"label": choice.label}
            )
        return grant
