"""How dates read in French (settings.FORMAT_MODULE_PATH); see config/formats/en/formats.py."""

DATE_FORMAT = "j N Y"  # 5 mars 2025, 12 févr. 2025
DATETIME_FORMAT = "j N Y à H:i"  # 5 mars 2025 à 14:30
SHORT_DATETIME_FORMAT = "j N à H:i"  # 5 mars à 14:30
TIME_FORMAT = "H:i"  # 14:30
