"""The deliberation pages' URLs; how to ask and read any page is in tests/client.py."""

from django.urls import reverse


def url(name: str, *args) -> str:
    return reverse(f"deliberation:{name}", args=args)
