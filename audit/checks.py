"""At start-up (`manage.py check`, runserver, migrate): the log's signing key and retired keys must be readable."""

from django.conf import settings
from django.core.checks import Error, register

from plenary_tally import notes

from . import tlog

HINT = "Make a key with `python -m analysis.tally keygen HOST` (docs/audit-log.md, “The log's key”)."


@register()
def check_log_keys(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not settings.AUDIT_LOG_KEY_GENERATED:  # a generated key is made on first use, and made right
        try:
            tlog.signer()
        except (OSError, ValueError) as exc:  # notes.NoteError is a ValueError
            where = "AUDIT_LOG_KEY" if settings.AUDIT_LOG_KEY else f"AUDIT_LOG_KEY_FILE ({settings.AUDIT_LOG_KEY_FILE})"
            errors.append(
                Error(f"The audit log's signing key in {where} cannot be read: {exc}.", hint=HINT, id="audit.E001")
            )
    for key in tlog.retired_keys():
        try:
            notes.Verifier(key)
        except ValueError as exc:
            errors.append(Error(f"AUDIT_LOG_RETIRED_KEYS holds {key!r}, not a verifier key: {exc}.", id="audit.E002"))
    return errors
