"""The deliberation part of the demo: a definition in three versions, four working groups and a discussion.

Every person here is invented. Everything is written through the services, so the demo's
audit log is as real as any other. `python manage.py seed_demo` (in the votes app, which
adds a ballot on top) calls `load()`; loading again changes nothing.
"""

from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from deliberation import services
from deliberation.models import Definition, DraftVersion, Membership

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "plenary-demo"
SLUG = "open-model"

ORGANIZERS = [("mara", "Mara", "Okafor"), ("tomasz", "Tomasz", "Lindqvist")]

GROUPS = {
    ("language", "Language Models", "Builders and users of open large language models."): [
        ("ines", "Inès", "Duarte", "chair"),
        ("kofi", "Kofi", "Mensah"),
        ("lena", "Lena", "Brandt"),
        ("ravi", "Ravi", "Iyer"),
        ("sofia", "Sofía", "Herrera"),
        ("jun", "Jun", "Takeda"),
        ("amara", "Amara", "Nwosu"),
    ],
    ("vision", "Vision Models", "People who train and ship open image and video models."): [
        ("pieter", "Pieter", "de Vries", "chair"),
        ("hana", "Hana", "Novak"),
        ("omar", "Omar", "Haddad"),
        ("greta", "Greta", "Solberg"),
        ("luis", "Luis", "Carvalho"),
    ],
    ("inference", "Inference Stack", "Maintainers of runtimes, compilers and serving tools."): [
        ("yara", "Yara", "Khoury", "chair"),
        ("bruno", "Bruno", "Costa"),
        ("mei", "Mei", "Lin"),
        ("anton", "Anton", "Petrov"),
        ("zanele", "Zanele", "Dlamini"),
        ("felix", "Felix", "Wagner"),
    ],
    ("data-commons", "Data Commons", "Stewards of open corpora, archives and data licences."): [
        ("noor", "Noor", "Rahman", "chair"),
        ("elias", "Elias", "Berg"),
        ("paula", "Paula", "Moreno"),
        ("tariq", "Tariq", "Aziz"),
        ("ilse", "Ilse", "Jansen"),
        ("marek", "Marek", "Kowalski"),
        ("ayesha", "Ayesha", "Siddiqui"),
        ("dmitri", "Dmitri", "Volkov"),
        ("chloe", "Chloé", "Laurent"),
    ],
}

# (key, title, category, description); the aggregate is added separately.
COMPONENTS_0_0_8 = [
    ("preprocessing-code", "Data preprocessing code", "Code", "Code that cleans, filters and tokenizes the data."),
    ("training-code", "Training code", "Code", "Code used to train the model, with its configuration."),
    ("evaluation-code", "Evaluation code", "Code", "Code that computes the reported benchmark results."),
    ("inference-code", "Inference code", "Code", "Code that runs the trained model."),
    ("supporting-libraries", "Supporting libraries and tools", "Code", "Libraries the other code depends on."),
    ("training-data", "Training data sets", "Data", "The data the model was trained on."),
    ("testing-data", "Testing data sets", "Data", "Data held out to test the model."),
    ("validation-data", "Validation data sets", "Data", "Data used to tune the training."),
    ("benchmark-data", "Benchmarking data sets", "Data", "Public data sets the model is compared on."),
    ("model-architecture", "Model architecture", "Model", "The structure of the network and its hyperparameters."),
    ("model-parameters", "Model parameters", "Model", "The trained weights, checkpoints included."),
    ("sample-outputs", "Sample model outputs", "Model", "Examples of what the model produces."),
    ("model-card", "Model card", "Documentation", "Intended use, limitations, known biases."),
    ("technical-report", "Technical report", "Documentation", "How the model was built, in detail."),
    ("research-paper", "Research paper", "Documentation", "The peer-reviewed account, where there is one."),
    ("usage-documentation", "Usage documentation", "Documentation", "How to install, run and fine-tune the model."),
]
ADDED_IN_0_0_9 = [
    ("data-card", "Data card", "Documentation", "Provenance, scope and licences of each data set."),
    (
        "data-information",
        "Data information",
        "Data",
        "Enough detail about the data for a skilled person to rebuild a substantially equivalent system.",
    ),
]
REMOVED_IN_0_0_9 = ["sample-outputs"]
AGGREGATE = (
    "all-data-sets",
    "All data sets",
    "Data",
    "The four kinds of data set, taken together.",
    "mean",
    ["training-data", "testing-data", "validation-data", "benchmark-data"],
)

BODY_0_0_8 = """# Open Model Definition

## Preamble

Openness lets people learn from, build on and improve the work of others. A model is open
when anyone can use it, study how it works, modify it and share it, for any purpose and
without having to ask for permission.

## What an open model is

An open model is made available under terms that grant the freedoms to:

- **Use** the system for any purpose and without having to ask for permission.
- **Study** how the system works and inspect its components.
- **Modify** the system for any purpose, including to change its output.
- **Share** the system for others to use, with or without modifications.

## Preferred form to make modifications

The preferred form includes the training data, the complete source code used to train and
run the system, and the model parameters.
"""

BODY_0_0_9 = """# Open Model Definition

## Preamble

Openness lets people learn from, build on and improve the work of others. A model is open
when anyone can use it, study how it works, modify it and share it, for any purpose and
without having to ask for permission.

## What an open model is

An open model is made available under terms that grant the freedoms to:

- **Use** the system for any purpose and without having to ask for permission.
- **Study** how the system works and inspect its components.
- **Modify** the system for any purpose, including to change its output.
- **Share** the system for others to use, with or without modifications.

These freedoms apply both to a fully functional system and to its discrete elements.

## Preferred form to make modifications

The preferred form includes:

- **Data information**: sufficiently detailed information about the data used to train the
  system, so that a skilled person can build a substantially equivalent system.
- **Code**: the complete source code used to train and run the system.
- **Parameters**: the model parameters, such as weights, and their configuration.
"""

BODY_1_0_RC1 = (
    BODY_0_0_9.replace(
        "These freedoms apply both to a fully functional system and to its discrete elements.",
        "These freedoms apply both to a fully functional system and to its discrete elements.\n"
        "A precondition to exercising them is access to the preferred form to make modifications.",
    )
    + "\n## Checklist\n\nThe working groups' votes decide which components the checklist requires.\n"
)

DISCUSSION = [
    # (author, component key or None, body, replies [(author, body)])
    (
        "kofi",
        None,
        "The **Study** freedom means little if the training data stays closed. "
        "Can we say in the text why data information is enough?",
        [
            (
                "mara",
                "That is the question the component vote is for. The ballot will ask, per "
                "component, whether it is required to Use, Study, Modify and Share.",
            ),
            (
                "noor",
                "From the data side: *information* about the data is not the data. We will "
                "bring our objections to the vote, with rationale.",
            ),
        ],
    ),
    ("greta", None, "The preamble reads well. Could the checklist link to the vote results once they exist?", []),
    (
        "elias",
        "training-data",
        "Without the training data nobody can reproduce the model. This should be required for Study and Modify.",
        [
            ("ravi", "Some corpora cannot be shared for legal reasons; requiring them excludes most models."),
            ("paula", "Then say so openly and let the vote decide, rather than quietly dropping it."),
        ],
    ),
    (
        "mei",
        "model-parameters",
        "Weights without the architecture description are hard to run. Glad both are listed.",
        [],
    ),
    ("dmitri", "data-information", "What counts as *sufficiently detailed*? We need an example.", []),
]
EDITED = (
    "greta",
    "The preamble reads well. Could the checklist link to the published vote results, "
    "with the roll call, once they exist?",
)
HIDDEN = ("omar", "Buy cheap GPU credits at totally-legit.example!", "Advertising, unrelated to the definition.")


def load() -> tuple[Definition, bool]:
    """The demo definition, and whether it was loaded just now (False: it was already there)."""
    definition = Definition.objects.filter(slug=SLUG).first()
    if definition is not None:
        return definition, False
    return _seed(), True


def people() -> dict[str, "User"]:
    """The demo's accounts by handle."""
    handles = [h for h, *_ in ORGANIZERS] + [m[0] for members in GROUPS.values() for m in members]
    return {u.get_username(): u for u in get_user_model().objects.filter(username__in=handles)}


def accounts() -> list[str]:
    """Who to sign in as, for the command to print."""
    lines = [
        f"Demo accounts (password for all: {DEMO_PASSWORD}):",
        "  organizers: mara, tomasz   (definition open-model)",
    ]
    for (_, name, _), members in GROUPS.items():
        chair = next(m[0] for m in members if len(m) > 3)
        others = ", ".join(m[0] for m in members if len(m) == 3)
        lines.append(f"  {name}: chair {chair}; members {others}")
    lines.append("  admin (Django admin at /admin/): admin")
    return lines


def _seed() -> Definition:
    people = {}
    for handle, first, last in ORGANIZERS:
        people[handle] = _user(handle, first, last)
    admin = _user("admin", "Ada", "Admin", superuser=True)
    mara, tomasz = people["mara"], people["tomasz"]

    definition = services.create_definition(
        slug=SLUG,
        title="Open Model Definition",
        summary="What it takes for a machine-learning model to be open: the freedoms to use, "
        "study, modify and share it, and the components those freedoms require.",
        organizers=[mara, tomasz],
        acting_user=admin,
    )

    v008 = services.start_draft(definition=definition, label="0.0.8", acting_user=mara)
    services.update_draft(version=v008, label="0.0.8", body=BODY_0_0_8, acting_user=mara)
    for key, title, category, description in COMPONENTS_0_0_8:
        services.add_component(version=v008, acting_user=mara, fields=_fields(key, title, category, description))
    _add_aggregate(v008, mara)
    v008 = services.publish_version(
        version=v008,
        acting_user=mara,
        release_notes="First public draft: the four freedoms and the list of components to vote on.",
    )

    for (key, name, description), members in GROUPS.items():
        group = services.create_group(
            definition=definition, key=key, name=name, description=description, acting_user=tomasz
        )
        for handle, first, last, *role in members:
            people[handle] = _user(handle, first, last)
            services.add_member(
                group=group,
                user=people[handle],
                role=role[0] if role else Membership.Role.MEMBER,
                acting_user=tomasz,
            )

    v009 = services.start_draft(definition=definition, label="0.0.9", based_on=v008, acting_user=mara)
    services.update_draft(version=v009, label="0.0.9", body=BODY_0_0_9, acting_user=mara)
    for key in REMOVED_IN_0_0_9:
        services.remove_component(component=v009.components.get(key=key), acting_user=mara)
    for key, title, category, description in ADDED_IN_0_0_9:
        services.add_component(version=v009, acting_user=mara, fields=_fields(key, title, category, description))
    renamed = v009.components.get(key="supporting-libraries")
    services.update_component(
        component=renamed,
        acting_user=mara,
        fields=_fields(
            "supporting-libraries",
            "Supporting libraries",
            "Code",
            "Libraries and tools the other code depends on, with their versions.",
        ),
    )
    services.publish_version(
        version=v009,
        acting_user=tomasz,
        release_notes="Adds *data information* and the data card; drops sample outputs; "
        "clarifies that the freedoms apply to the system's elements.",
    )

    comments = {}
    for author, component_key, body, replies in DISCUSSION:
        component = v009.components.get(key=component_key) if component_key else None
        comment = services.post_comment(author=people[author], version=v009, component=component, body=body)
        comments[author] = comment
        for reply_author, reply_body in replies:
            services.post_comment(
                author=people[reply_author], version=v009, component=component, parent=comment, body=reply_body
            )
    services.edit_comment(comment=comments[EDITED[0]], body=EDITED[1], acting_user=people[EDITED[0]])
    spam = services.post_comment(author=people[HIDDEN[0]], version=v009, body=HIDDEN[1])
    services.hide_comment(comment=spam, reason=HIDDEN[2], acting_user=mara)

    rc1 = services.start_draft(definition=definition, label="1.0-rc1", based_on=v009, acting_user=mara)
    services.update_draft(version=rc1, label="1.0-rc1", body=BODY_1_0_RC1, acting_user=mara)
    services.add_component(
        version=rc1,
        acting_user=mara,
        fields=_fields(
            "evaluation-results",
            "Evaluation results",
            "Documentation",
            "The benchmark results the model's documentation reports, with how they were obtained.",
        ),
    )
    return definition


def _user(handle: str, first: str, last: str, *, superuser: bool = False) -> "User":
    User = get_user_model()
    user = User.objects.create_user(
        username=handle,
        email=f"{handle}@demo.plenary.invalid",
        password=DEMO_PASSWORD,
        first_name=first,
        last_name=last,
        is_staff=superuser,
        is_superuser=superuser,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _fields(key: str, title: str, category: str, description: str) -> dict:
    return {"key": key, "title": title, "category": category, "description": description, "aggregate_rule": ""}


def _add_aggregate(version: DraftVersion, acting_user: "User") -> None:
    key, title, category, description, rule, parts = AGGREGATE
    services.add_component(
        version=version,
        acting_user=acting_user,
        fields={**_fields(key, title, category, description), "aggregate_rule": rule},
        parts=list(version.components.filter(key__in=parts)),
    )
