from django import template

register = template.Library()


@register.filter
def signed(value: int) -> str:
    """+1, 0, −1: a choice's value as people write it."""
    return f"{value:+d}".replace("-", "−") if value else "0"
