"""The JSON API of definitions, their versions and components, working groups and comments; and its one write here,
posting a comment or a reply.

Each endpoint reads through the same access gates as the pages: a draft in progress is seen
by its definition's organizers only and is a 404 for everyone else, like its page; comments
are visible where their version is, and a hidden comment shows its reason, not its text.
A comment is posted through `services.post_comment`, with the page's rate limit and refusals.
"""

from datetime import datetime
from typing import Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, P, PathEx, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from config import ratelimits
from tokens.auth import write
from tokens.models import Scope

from . import services
from .access import get_definition, get_version
from .models import COMMENT_MAX_LENGTH, Comment, Definition, DraftVersion, Membership, Suggestion, WorkingGroup

SLUG = r"^[-a-zA-Z0-9_]+$"
LABEL = r"^[0-9A-Za-z][0-9A-Za-z.+\-]*$"
HANDLE = r"^@?[^\x00\s]+$"

# Path parameters: what the pages' URLs accept, so a malformed one never reaches the database.
Slug = PathEx[str, P(pattern=SLUG, description="A definition's slug, such as `osd`.")]
Label = PathEx[str, P(pattern=LABEL, description="A version's label, such as `0.0.9` or `1.0-rc1`.")]
Key = PathEx[str, P(pattern=SLUG)]

router = Router(tags=["deliberation"])


class NotFound(Schema):
    detail: str


class Refused(Schema):
    """Why a request was refused: the sentence the page would show, or what is wrong with the token."""

    detail: str


class DefinitionOut(Schema):
    slug: str
    title: str
    summary: str
    organizers: list[str]
    created_at: datetime
    url: str

    @staticmethod
    def resolve_organizers(obj: Definition) -> list[str]:
        return sorted(u.get_username() for u in obj.organizers.all())

    @staticmethod
    def resolve_url(obj: Definition) -> str:
        return obj.get_absolute_url()


class VersionSummaryOut(Schema):
    label: str
    # Choices as Literals, not enums: the schema names an enum by its class, and three of ours are `Status`.
    status: Literal[tuple(DraftVersion.Status.values)]  # type: ignore[valid-type]  # built from the choices at import
    based_on: str | None
    created_at: datetime
    published_at: datetime | None
    published_by: str | None
    url: str

    @staticmethod
    def resolve_based_on(obj: DraftVersion) -> str | None:
        based_on = obj.based_on  # no query when there is none
        return based_on.label if based_on is not None else None

    @staticmethod
    def resolve_published_by(obj: DraftVersion) -> str | None:
        published_by = obj.published_by
        return published_by.get_username() if published_by is not None else None

    @staticmethod
    def resolve_url(obj: DraftVersion) -> str:
        return obj.get_absolute_url()


class VersionOut(VersionSummaryOut):
    definition: str
    body: str
    release_notes: str

    @staticmethod
    def resolve_definition(obj: DraftVersion) -> str:
        return obj.definition.slug


class AggregateOut(Schema):
    rule: str
    of: list[str]


class ComponentOut(Schema):
    key: str
    title: str
    category: str
    description: str
    position: int
    aggregate: AggregateOut | None

    @staticmethod
    def resolve_aggregate(obj) -> dict | None:
        if not obj.is_aggregate:
            return None
        return {"rule": obj.aggregate_rule, "of": sorted(p.key for p in obj.parts.all())}


class MemberOut(Schema):
    handle: str
    role: Literal[tuple(Membership.Role.values)]  # type: ignore[valid-type]  # built from the choices at import
    joined_at: datetime

    @staticmethod
    def resolve_handle(obj: Membership) -> str:
        return obj.user.get_username()


class WorkingGroupOut(Schema):
    key: str
    name: str
    description: str
    created_at: datetime
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj: WorkingGroup) -> list[Membership]:
        return obj.current_members  # type: ignore[attr-defined]  # the views' Prefetch(to_attr="current_members")


class HiddenOut(Schema):
    by: str
    at: datetime
    reason: str


class SuggestionOut(Schema):
    """A suggested change to a passage of a version's text, and the organizers' decision on it."""

    id: int
    lines: tuple[int, int]
    original: str
    replacement: str
    reason: str
    author: str
    created_at: datetime
    supporters: list[str]
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str
    applied_lines: tuple[int, int] | None

    @staticmethod
    def resolve_lines(obj: Suggestion) -> tuple[int, int]:
        return (obj.line_from, obj.line_to)

    @staticmethod
    def resolve_author(obj: Suggestion) -> str:
        return obj.author.get_username()

    @staticmethod
    def resolve_supporters(obj: Suggestion) -> list[str]:
        return [s.user.get_username() for s in obj.supports.all()]

    @staticmethod
    def resolve_decided_by(obj: Suggestion) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by is not None else None

    @staticmethod
    def resolve_applied_lines(obj: Suggestion) -> tuple[int, int] | None:
        return (obj.applied_from, obj.applied_to) if obj.applied_from is not None and obj.applied_to else None


class CommentOut(Schema):
    id: int
    parent: int | None
    component: str | None
    author: str
    created_at: datetime
    edited_at: datetime | None
    body: str | None
    hidden: HiddenOut | None

    @staticmethod
    def resolve_parent(obj: Comment) -> int | None:
        return obj.parent_id

    @staticmethod
    def resolve_component(obj: Comment) -> str | None:
        component = obj.component
        return component.key if component is not None else None

    @staticmethod
    def resolve_author(obj: Comment) -> str:
        return obj.author.get_username()

    @staticmethod
    def resolve_edited_at(obj: Comment) -> datetime | None:
        return None if obj.is_hidden else obj.edited_at

    @staticmethod
    def resolve_body(obj: Comment) -> str | None:
        return None if obj.is_hidden else obj.body

    @staticmethod
    def resolve_hidden(obj: Comment) -> dict | None:
        if not obj.is_hidden:
            return None
        assert obj.hidden_by is not None  # hide_comment sets hidden_at and hidden_by together
        return {"by": obj.hidden_by.get_username(), "at": obj.hidden_at, "reason": obj.hidden_reason}


@router.get("/definitions", response=list[DefinitionOut])
@paginate
def definition_list(request: HttpRequest):
    """Every definition, by title."""
    return Definition.objects.prefetch_related("organizers").order_by("title", "pk")


@router.get("/definitions/{slug}", response={200: DefinitionOut, 404: NotFound})
def definition(request: HttpRequest, slug: Slug):
    return get_definition(slug)


@router.get("/definitions/{slug}/versions", response={200: list[VersionSummaryOut], 404: NotFound})
@paginate
def version_list(request: HttpRequest, slug: Slug):
    """The definition's versions, oldest first: the published ones, and to its organizers the draft in progress."""
    definition = get_definition(slug)
    return (
        definition.versions.visible_to(request.user)
        .select_related("definition", "based_on", "published_by")
        .order_by("created_at", "pk")
    )


@router.get("/definitions/{slug}/versions/{label}", response={200: VersionOut, 404: NotFound})
def version(request: HttpRequest, slug: Slug, label: Label):
    """One version with its Markdown text and release notes; a draft in progress is a 404 but to its organizers."""
    return get_version(request, slug, label)


@router.get("/definitions/{slug}/versions/{label}/components", response={200: list[ComponentOut], 404: NotFound})
@paginate
def component_list(request: HttpRequest, slug: Slug, label: Label):
    """The version's components in their order; an aggregate names the components it is computed from."""
    return get_version(request, slug, label).components.prefetch_related("parts").order_by("position", "key", "pk")


@router.get("/definitions/{slug}/versions/{label}/comments", response={200: list[CommentOut], 404: NotFound})
@paginate
def comment_list(
    request: HttpRequest,
    slug: Slug,
    label: Label,
    component: str | None = Query(None, pattern=SLUG, description="Only the discussion of this component."),
):
    """The discussion of a version and its components, oldest first; replies name their parent."""
    comments = get_version(request, slug, label).comments.select_related("component", "author", "hidden_by")
    if component:
        comments = comments.filter(component__key=component)
    return comments.order_by("created_at", "pk")


@router.get("/definitions/{slug}/versions/{label}/suggestions", response={200: list[SuggestionOut], 404: NotFound})
@paginate
def suggestion_list(request: HttpRequest, slug: Slug, label: Label):
    """The changes suggested to the version's text, oldest first, with who supports each and what was decided."""
    suggestions = get_version(request, slug, label).suggestions.select_related("author", "decided_by")
    return suggestions.prefetch_related("supports__user").order_by("created_at", "pk")


@router.get("/definitions/{slug}/groups", response={200: list[WorkingGroupOut], 404: NotFound})
@paginate
def group_list(request: HttpRequest, slug: Slug):
    """The definition's working groups with their current members, chairs first."""
    definition = get_definition(slug)
    current = Membership.objects.current().select_related("user").order_by("role", "user__username")
    return definition.working_groups.prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_members")
    ).order_by("name", "pk")


@router.get("/definitions/{slug}/groups/{key}", response={200: WorkingGroupOut, 404: NotFound})
def group(request: HttpRequest, slug: Slug, key: Key):
    current = Membership.objects.current().select_related("user").order_by("role", "user__username")
    return get_object_or_404(
        WorkingGroup.objects.prefetch_related(Prefetch("memberships", queryset=current, to_attr="current_members")),
        definition__slug=slug,
        key=key,
    )


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=COMMENT_MAX_LENGTH, description="Markdown.", examples=["Agreed."])
    component: str | None = Field(None, pattern=SLUG, max_length=64, description="On this component (its key).")
    parent: int | None = Field(None, ge=1, le=2**63 - 1, description="In reply to this comment (its id).")


@router.post(
    "/definitions/{slug}/versions/{label}/comments",
    auth=write(Scope.COMMENT),
    response={201: CommentOut, 400: Refused, 401: Refused, 403: Refused, 404: NotFound, 429: Refused},
    openapi_extra={"requestBody": {"content": {"application/json": {"example": {"body": "Agreed: *code* first."}}}}},
)
def post_comment(request: HttpRequest, slug: Slug, label: Label, comment: CommentIn):
    """Comment on the version or one of its components, or reply to a comment, as the page does. Scope `comment`."""
    version = get_version(request, slug, label)
    component = get_object_or_404(version.components, key=comment.component) if comment.component else None
    parent = None
    if comment.parent is not None:
        parent = version.comments.filter(pk=comment.parent).first()
        if parent is None:  # another version's, or no comment: a 404, as any id that is not this address's
            raise HttpError(404, "The comment you reply to is not part of this discussion.")
    if too_many := ratelimits.comment_saves(request):
        raise HttpError(429, too_many)
    posted = services.post_comment(
        author=request.user, version=version, component=component, parent=parent, body=comment.body
    )
    return Status(201, posted)
