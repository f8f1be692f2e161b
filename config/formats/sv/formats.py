# Dates as the board writes them in Swedish: "25 nov 2026 18:10" (Django's own are the longer
# "25 november 2026 18:10"; "b" is the lower-case month, as Swedish writes it). Anything not set
# here falls back to Django's Swedish formats.
DATE_FORMAT = "j b Y"
DATETIME_FORMAT = "j b Y H:i"
TIME_FORMAT = "H:i"
