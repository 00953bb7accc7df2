"""How dates read in English (settings.FORMAT_MODULE_PATH): templates say `|date:"DATE_FORMAT"` or
`"DATETIME_FORMAT"` and each language gets its own way of writing them. Times are shown in UTC, and say so."""

DATE_FORMAT = "j M Y"  # 5 Mar 2025
DATETIME_FORMAT = "j M Y, H:i"  # 5 Mar 2025, 14:30
SHORT_DATETIME_FORMAT = "j M, H:i"  # 5 Mar, 14:30 (within the year shown beside it)
TIME_FORMAT = "H:i"  # 14:30
