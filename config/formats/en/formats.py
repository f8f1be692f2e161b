# Dates as the board writes them in English: day first and a 24-hour clock, the same for a deal's
# fields, its stage history and the sync header ("25 Nov 2026, 18:10"). Anything not set here
# falls back to Django's English formats. See dealflow/formatting.py.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
