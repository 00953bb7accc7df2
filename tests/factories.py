"""factory_boy factories with sensible defaults only. Build anything else inline in the test."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from deliberation.markdown import render_markdown
from deliberation.models import (
    Comment,
    Component,
    Definition,
    DraftRevision,
    DraftVersion,
    Membership,
    WorkingGroup,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """Accounts sign in with a verified address unless built with verified=False."""
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )


class DefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Definition
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"definition-{n}")
    title = factory.Sequence(lambda n: f"Definition {n}")
    summary = "What it means for a system to be open."


class DraftVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DraftVersion

    definition = factory.SubFactory(DefinitionFactory)
    label = factory.Sequence(lambda n: f"0.{n}")
    body = "# Preamble\n\nA system is open when anyone can use, study, modify and share it.\n"
    body_html = factory.LazyAttribute(lambda v: render_markdown(v.body))  # as the services store it
    status = DraftVersion.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    release_notes = "First release."
    release_notes_html = factory.LazyAttribute(lambda v: render_markdown(v.release_notes))


class DraftRevisionFactory(factory.django.DjangoModelFactory):
    """A version's text kept as a revision, as the services keep each save (and the migration kept the texts of
    versions made before revisions were): number 1, the version's label and text, no author."""

    class Meta:
        model = DraftRevision

    version = factory.SubFactory(DraftVersionFactory)
    number = 1
    label = factory.LazyAttribute(lambda r: r.version.label)
    body = factory.LazyAttribute(lambda r: r.version.body)


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    version = factory.SubFactory(DraftVersionFactory)
    key = factory.Sequence(lambda n: f"component-{n}")
    title = factory.Sequence(lambda n: f"Component {n}")
    category = "Code"


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup

    definition = factory.SubFactory(DefinitionFactory)
    key = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Group {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(WorkingGroupFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    version = factory.SubFactory(DraftVersionFactory)
    author = factory.SubFactory(UserFactory)
    body = "I think *training data* should be required."
    body_html = factory.LazyAttribute(lambda c: render_markdown(c.body))  # as post_comment stores it
