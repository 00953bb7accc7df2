"""Personas and the few shared fixtures every test may use.

olga organizes the definition; alice chairs its working group; bob is a member of it;
dave is a member of another group; carol is signed in but belongs to nothing; oscar organizes
another definition.
"""

import copy
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection

from audit import guard
from deliberation.models import Membership

from . import databases
from .factories import (
    ComponentFactory,
    DefinitionFactory,
    DraftVersionFactory,
    MembershipFactory,
    UserFactory,
    WorkingGroupFactory,
)
from .faults import every_row
from .sso.idp import idp, sso  # noqa: F401  # a real OpenID Connect provider, one per run (tests/sso/)


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's, except that SQLite in memory is filled from a database migrated once (tests/databases.py)."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    if not django_db_use_migrations:
        _disable_migrations()
    copied = django_db_use_migrations and aliases == {"default"} and databases.copied_in_memory()
    with django_db_blocker.unblock():
        if copied:
            old_name = databases.create(verbosity, serialize="default" in serialized_aliases)
        else:
            keepdb = django_db_keepdb and not django_db_createdb
            config = setup_databases(
                verbosity, interactive=False, aliases=aliases, serialized_aliases=serialized_aliases, keepdb=keepdb
            )
    yield
    if django_db_keepdb and not copied:
        return
    with django_db_blocker.unblock():
        if copied:
            databases.destroy(old_name, verbosity)
        else:
            teardown_databases(config, verbosity=verbosity)


PERSONAS = {
    "olga": ("Olga", "Organizer"),
    "alice": ("Alice", "Chair"),
    "bob": ("Bob", "Member"),
    "carol": ("Carol", "Outsider"),
    "dave": ("Dave", "Elsewhere"),
}


def make_persona(username: str):
    first_name, last_name = PERSONAS[username]
    return UserFactory(username=username, first_name=first_name, last_name=last_name)


def make_definition(olga):
    definition = DefinitionFactory(slug="osd", title="Open System Definition")
    definition.organizers.add(olga)
    return definition


def make_group(definition, alice, bob):
    group = WorkingGroupFactory(definition=definition, key="weights", name="Weights")
    MembershipFactory(group=group, user=alice, role=Membership.Role.CHAIR)
    MembershipFactory(group=group, user=bob)
    return group


def make_other_group(definition, dave):
    group = WorkingGroupFactory(definition=definition, key="corpora", name="Corpora")
    MembershipFactory(group=group, user=dave)
    return group


def make_published(definition):
    version = DraftVersionFactory(definition=definition, label="0.0.9")
    ComponentFactory(version=version, key="code", title="Training code", category="Code")
    data = ComponentFactory(version=version, key="data", title="Training data", category="Data")
    agg = ComponentFactory(version=version, key="all-data", title="All data", category="Data", aggregate_rule="mean")
    agg.parts.set([data])
    return version


def make_draft(olga, published):
    from deliberation import services

    return services.start_draft(definition=published.definition, label="0.0.10", based_on=published, acting_user=olga)


@pytest.fixture
def olga(db):
    return make_persona("olga")


@pytest.fixture
def alice(db):
    return make_persona("alice")


@pytest.fixture
def bob(db):
    return make_persona("bob")


@pytest.fixture
def carol(db):
    return make_persona("carol")


@pytest.fixture
def dave(db):
    return make_persona("dave")


@pytest.fixture
def oscar(db):
    """An organizer of another definition: no power over `osd`."""
    return make_oscar()


def make_oscar():
    user = UserFactory(username="oscar", first_name="Oscar", last_name="Elsewhere")
    DefinitionFactory(slug="other", title="Another Definition").organizers.add(user)
    return user


@pytest.fixture
def definition(olga):
    return make_definition(olga)


@pytest.fixture
def group(definition, alice, bob):
    return make_group(definition, alice, bob)


@pytest.fixture
def other_group(definition, dave):
    return make_other_group(definition, dave)


@pytest.fixture
def published(definition):
    """A published version with two leaf components and an aggregate of them."""
    return make_published(definition)


@pytest.fixture
def draft(olga, published):
    """The next draft, started from `published` through the service, as an organizer would."""
    return make_draft(olga, published)


@pytest.fixture
def component(published):
    return published.components.get(key="code")


@pytest.fixture
def nothing_written(db):
    """`with nothing_written():` fails unless every row of every table is the same afterwards."""

    @contextmanager
    def check():
        before = every_row()
        yield
        assert every_row() == before

    return check


@pytest.fixture(autouse=True)
def _audit_guard_around_flush(request):
    """Transactional tests end with a flush, which the guard refuses (SQLite runs it as DELETE,
    PostgreSQL as TRUNCATE): lift the guard for it.

    pytest-django runs transactional tests last, and each puts the guard back first, so every
    test sees the append-only audit table that the migrations install.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if not (transactional or {"transactional_db", "live_server"} & set(request.fixturenames)):
        yield
        return
    request.getfixturevalue("transactional_db")
    guard.install(connection)
    yield
    guard.uninstall(connection)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits stay on in tests, counted in the per-process cache: each test starts with none spent."""
    cache.clear()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (tests/mail.py) that Django sends its mail to, for the test; its inbox."""
    from . import mail

    controller, inbox = mail.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


# A world built once per module ------------------------------------------------------------------------------------
# A module whose tests read one shared world defines `_world_once` (module-scoped: the world built in a transaction
# that each test's own nests in and rolls back to, as Django's TestCase.setUpTestData does) and takes its objects with
# `from_world`; each test gets its own copy of them.


@pytest.fixture
def _world(db, _world_once) -> SimpleNamespace:
    """A copy per test, as setUpTestData's: what one test changes in these objects no other sees."""
    return copy.deepcopy(_world_once)


def from_world(*names: str) -> tuple:
    """Fixtures named `names`, each the object of that name in the module's world, in place of the shared ones."""

    def fixture(name: str):
        @pytest.fixture(name=name)
        def from_the_world(_world):
            """The object of this name in the module's world (`_world_once`), copied for this test."""
            return getattr(_world, name)

        return from_the_world

    return tuple(fixture(name) for name in names)
