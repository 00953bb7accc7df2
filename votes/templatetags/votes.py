from django import template

from votes import models

register = template.Library()
register.filter("signed", models.signed)
