from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedHttpRequest

from .. import services
from ..access import get_version
from ..diff import attribute, component_changes, inline, text_diff
from ..forms import CommentForm, ComponentForm, DraftForm, NextDraftForm, PublishForm
from ..labels import suggest_next_label
from ..models import Comment, Component, Definition, DraftVersion


def _organizer_draft(request: HttpRequest, slug: str, label: str) -> DraftVersion:
    version = get_version(request, slug, label)
    if not version.definition.is_organizer(request.user):
        raise PermissionDenied(_("Only the definition's organizers can edit its drafts."))
    if version.is_published:
        raise PermissionDenied(_("Version %(label)s is published and can no longer change.") % {"label": version.label})
    return version


def comments_context(request: HttpRequest, version: DraftVersion, component: Component | None) -> dict:
    threads = Comment.objects.filter(version=version, component=component, suggestion=None).threads()
    return {
        "version": version,
        "component": component,
        "threads": threads,
        "comment_form": CommentForm(version=version),
        "can_moderate": version.definition.is_organizer(request.user),
    }


def version(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    version = get_version(request, slug, label)
    components = version.components.prefetch_related("parts").annotate(
        comment_count=Count("comments", filter=Q(comments__hidden_at__isnull=True))
    )
    others = version.definition.versions.visible_to(request.user).exclude(pk=version.pk)
    previous = others.filter(created_at__lt=version.created_at).order_by("-created_at").first()
    is_organizer = version.definition.is_organizer(request.user)
    open_draft = version.definition.versions.filter(status=DraftVersion.Status.DRAFT).first() if is_organizer else None
    comments = comments_context(request, version, None)
    suggestions = list(version.suggestions.listed())
    view = "lines" if request.GET.get("view") == "lines" else "text"
    return render(
        request,
        "deliberation/version.html",
        {
            "definition": version.definition,
            "version": version,
            "categories": [
                (cat, list(items))
                for cat, items in groupby(
                    sorted(components, key=lambda c: (c.category, c.position, c.key)), key=lambda c: c.category
                )
            ],
            "previous": previous,
            "others": others,
            "is_organizer": is_organizer,
            "open_draft": open_draft,
            "next_draft_form": NextDraftForm(initial={"label": suggest_next_label(version.label)})
            if is_organizer and version.is_published and open_draft is None
            else None,
            "view": view,
            "lines": _numbered(version, suggestions, [t for t in comments["threads"] if t.line_from]),
            "suggestions": suggestions,
            "to_consolidate": [s for s in suggestions if s.status == "accepted" and not s.applied_at],
            "passage_from": request.GET.get("from", ""),
            "passage_to": request.GET.get("to", ""),
            **comments,
        },
    )


def _numbered(version: DraftVersion, suggestions: list, threads: list) -> list[tuple[int, str, list, list]]:
    """Each line of the text, numbered, with the suggestions and the passage threads that start on it."""
    starting: dict[int, tuple[list, list]] = {}
    for s in suggestions:
        if s.status in ("pending", "accepted"):
            starting.setdefault(s.line_from, ([], []))[0].append(s)
    for t in threads:
        starting.setdefault(t.line_from, ([], []))[1].append(t)
    return [(no, text, *starting.get(no, ([], []))) for no, text in version.numbered_lines()]


def component(request: HttpRequest, slug: str, label: str, key: str) -> HttpResponse:
    version = get_version(request, slug, label)
    linked = Component.objects.select_related("version__definition")  # each links to its own page
    component = get_object_or_404(
        # .all() first: the stubs lose Prefetch's type parameters on a manager's prefetch_related
        version.components.all().prefetch_related(Prefetch("parts", linked), Prefetch("aggregates", linked)),
        key=key,
    )
    history = (
        Component.objects.filter(key=key, version__definition=version.definition)
        .filter(version__in=version.definition.versions.visible_to(request.user))
        .select_related("version__definition")
        .order_by("version__created_at")
    )
    return render(
        request,
        "deliberation/component.html",
        {
            "definition": version.definition,
            "history": history,
            "is_organizer": version.definition.is_organizer(request.user),
            **comments_context(request, version, component),
        },
    )


def diff(request: HttpRequest, slug: str) -> HttpResponse:
    definition = get_object_or_404(Definition, slug=slug)
    versions = list(definition.versions.visible_to(request.user).order_by("created_at", "pk"))
    by_label = {v.label: v for v in versions}
    view = "inline" if request.GET.get("view") == "inline" else "side"
    old = by_label.get(request.GET.get("from", ""))
    new = by_label.get(request.GET.get("to", ""))
    if (request.GET.get("from") and old is None) or (request.GET.get("to") and new is None):
        messages.error(request, _("That version does not exist here; choose two versions from the lists."))
    if old is None and new is None and len(versions) >= 2:
        old, new = versions[-2], versions[-1]
    context = {"definition": definition, "versions": versions, "old": old, "new": new, "view": view}
    if old is not None and new is not None:
        consolidated = list(new.suggestions.consolidated().listed())
        sources = {n: s.pk for s in consolidated for n in range(s.applied_from, s.applied_to + 1)}
        rows = attribute(text_diff(old.body, new.body), sources)
        context |= {
            "consolidated": consolidated,
            "rows": rows,
            "lines": inline(rows) if view == "inline" else None,
            "changed": any(r.op != "equal" for r in rows),
            "component_changes": component_changes(old.components.specs(), new.components.specs()),
        }
    return render(request, "deliberation/diff.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request: AuthenticatedHttpRequest, slug: str, label: str) -> HttpResponse:
    """Edit a draft's text. A save from a stale page is refused and shows their text beside yours, kept in the form
    with the revision it now starts from, so that merging and saving again loses nothing."""
    version = _organizer_draft(request, slug, label)
    current = version.current_revision()
    draft = DraftVersion(label=version.label, body=version.body)
    form = DraftForm(
        request.POST if request.method == "POST" else None,
        instance=draft,
        initial={"revision": current.number if current else 0},
    )
    conflict = None
    if form.is_valid():
        try:
            version = services.update_draft(
                version=version,
                acting_user=request.user,
                label=form.cleaned_data["label"],
                body=form.cleaned_data["body"],
                started_from=form.cleaned_data["revision"],
            )
        except services.StaleDraft as exc:
            theirs, started_from = exc.current, form.cleaned_data["revision"]
            mine = form.cleaned_data["body"]
            data = request.POST.copy()
            data["revision"] = str(theirs.number if theirs else 0)  # saving again now overwrites theirs, knowingly
            form = DraftForm(data, instance=DraftVersion(label=version.label, body=version.body))
            form.is_valid()
            form.add_error(None, exc)
            conflict = {
                "theirs": theirs,
                "started_from": started_from,
                "rows": text_diff(theirs.body if theirs else "", mine),
            }
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Draft %(label)s saved.") % {"label": version.label})
            return redirect(version)
    return render(
        request,
        "deliberation/draft_edit.html",
        {"definition": version.definition, "version": version, "form": form, "conflict": conflict},
    )


def _publication(version: DraftVersion) -> dict:
    """What publishing `version` makes fixed or public, and what prevents it: what the publish page states."""
    components = version.components.all()
    return {
        "components": components.count(),
        "aggregates": components.exclude(aggregate_rule="").count(),
        "empty_aggregates": list(
            components.filter(aggregate_rule__gt="", parts__isnull=True).values_list("key", flat=True)
        ),
        "revisions": version.revisions.count(),
        "comments": version.comments.filter(hidden_at__isnull=True).count(),
        "hidden_comments": version.comments.filter(hidden_at__isnull=False).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def publish(request: AuthenticatedHttpRequest, slug: str, label: str) -> HttpResponse:
    """The one place a release is made: it states what becomes fixed and public, and publishes only the draft as
    this page showed it (the form carries its digest)."""
    version = _organizer_draft(request, slug, label)
    digest = services.version_digest(version)
    form = PublishForm(
        request.POST if request.method == "POST" else None,
        initial={"release_notes": version.release_notes, "reviewed": digest},
    )
    if form.is_valid():
        try:
            services.publish_version(
                version=version,
                release_notes=form.cleaned_data["release_notes"],
                acting_user=request.user,
                reviewed_digest=form.cleaned_data["reviewed"],
            )
        except ValidationError as exc:
            data = request.POST.copy()
            data["reviewed"] = digest  # what the page now shows is what a second click would publish
            form = PublishForm(data)
            form.is_valid()
            form.add_error(None, exc)
        else:
            messages.success(request, _("Version %(label)s is published.") % {"label": version.label})
            return redirect(version)
    previous = version.based_on
    changes = component_changes(previous.components.specs(), version.components.specs()) if previous else []
    return render(
        request,
        "deliberation/publish.html",
        {
            "definition": version.definition,
            "version": version,
            "form": form,
            "previous": previous,
            "component_changes": changes,
            **_publication(version),
        },
    )


def revisions(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    """Every save of a version's text, and the difference between any two (`from`, `to`: revision numbers).

    Seen wherever the version is: by its organizers while it is a draft, by everyone once it is published.
    """
    version = get_version(request, slug, label)
    listed = list(version.revisions.listed())
    numbers = {r.number for r in listed}
    view = "inline" if request.GET.get("view") == "inline" else "side"
    picked = [request.GET.get("from", ""), request.GET.get("to", "")]
    if any(p and (not p.isdecimal() or int(p) not in numbers) for p in picked):
        messages.error(request, _("That revision does not exist here; choose two revisions from the list."))
        picked = ["", ""]
    if picked[0] and picked[1]:
        old_no, new_no = int(picked[0]), int(picked[1])
    elif len(listed) >= 2:
        old_no, new_no = listed[1].number, listed[0].number
    else:
        old_no = new_no = 0
    context: dict = {"definition": version.definition, "version": version, "revisions": listed, "view": view}
    if old_no and new_no:
        texts = {r.number: r for r in version.revisions.filter(number__in=[old_no, new_no]).select_related("author")}
        old, new = texts[old_no], texts[new_no]
        rows = text_diff(old.body, new.body)
        context |= {
            "old": old,
            "new": new,
            "old_name": f"Revision {old.number}",
            "new_name": f"Revision {new.number}",
            "rows": rows,
            "lines": inline(rows) if view == "inline" else None,
            "changed": any(r.op != "equal" for r in rows) or old.label != new.label,
        }
    return render(request, "deliberation/revisions.html", context)


def revision(request: HttpRequest, slug: str, label: str, number: int) -> HttpResponse:
    """One revision's text, whole, as it was saved (Markdown source)."""
    version = get_version(request, slug, label)
    revision = get_object_or_404(version.revisions.select_related("author"), number=number)
    return render(
        request,
        "deliberation/revision.html",
        {"definition": version.definition, "version": version, "revision": revision},
    )


@login_required
@require_POST
def draft_start(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Start a draft: the next one from a published version (`from`), or a definition's first."""
    definition = get_object_or_404(Definition, slug=slug)
    form = NextDraftForm(request.POST)
    valid = form.is_valid()
    source = form.cleaned_data.get("from")
    based_on = get_object_or_404(definition.versions.published(), label=source) if source else None
    if valid:
        try:
            draft = services.start_draft(
                definition=definition, label=form.cleaned_data["label"], based_on=based_on, acting_user=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"Draft {draft.label} started" + (f" from {based_on.label}." if based_on else ".")
            )
            return redirect("deliberation:draft-edit", slug=slug, label=draft.label)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(based_on or definition)


@login_required
@require_http_methods(["GET", "POST"])
def component_form(request: AuthenticatedHttpRequest, slug: str, label: str, key: str | None = None) -> HttpResponse:
    version = _organizer_draft(request, slug, label)
    existing = get_object_or_404(version.components, key=key) if key else None
    form = ComponentForm(request.POST if request.method == "POST" else None, version=version, component=existing)
    if form.is_valid():
        fields = {f: form.cleaned_data[f] for f in ComponentForm.Meta.fields}
        parts = list(form.cleaned_data["parts"])
        try:
            if existing:
                saved = services.update_component(
                    component=existing, fields=fields, parts=parts, acting_user=request.user
                )
            else:
                saved = services.add_component(version=version, fields=fields, parts=parts, acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)  # the services name the field of each refusal
        else:
            messages.success(request, _("Component %(key)s saved.") % {"key": saved.key})
            if form.folded:
                typed, existing_category = form.folded
                messages.info(
                    request,
                    _("“%(typed)s” is filed under the existing category %(existing_category)s.")
                    % {"typed": typed, "existing_category": existing_category},
                )
            return redirect(f"{version.get_absolute_url()}#component-{saved.key}")
    return render(
        request,
        "deliberation/component_form.html",
        {"definition": version.definition, "version": version, "component": existing, "form": form},
    )


@login_required
@require_POST
def component_remove(request: AuthenticatedHttpRequest, slug: str, label: str, key: str) -> HttpResponse:
    version = _organizer_draft(request, slug, label)
    component = get_object_or_404(version.components, key=key)
    try:
        services.remove_component(component=component, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Component %(key)s removed from draft %(label)s.") % {"key": key, "label": version.label}
        )
    return redirect(version)
