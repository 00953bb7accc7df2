"""The sign-in providers this site offers (docs/sign-in.md), as allauth reads them from the settings.

A working group may require one of them of its members who vote (`WorkingGroup.required_provider`); a provider is
named by its id, as allauth stores it on each linked account (`SocialAccount.provider`): `github`, `gitlab`, or the
id an OpenID Connect provider is given in OIDC_PROVIDERS.
"""

from allauth.socialaccount.adapter import get_adapter


def configured() -> dict[str, str]:
    """Each configured provider's id -> its name, by name."""
    providers = get_adapter().list_providers(None)  # apps from the settings need no request
    return dict(sorted(((p.sub_id, p.name) for p in providers), key=lambda item: item[1].casefold()))


def name(provider_id: str) -> str:
    """The provider's name, or its id where this site no longer offers it."""
    return configured().get(provider_id, provider_id)
