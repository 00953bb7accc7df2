"""`{{ value|shown }}`: a number of outcomes.json (`7`, `"7/3"`) as people read it, `2.33`."""

from django import template

from plenary_tally import numbers

register = template.Library()
register.filter("shown", numbers.shown)
