"""The home page: the definitions for everyone and, for a signed-in person, what needs them.

Above every other app: it reads votes, deliberation and notifications through their own querysets and gates,
and writes nothing.
"""
