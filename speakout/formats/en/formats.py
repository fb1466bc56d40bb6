"""English date formats: one clock everywhere. Django's English default mixes "1:34 p.m." (its
time formats) with the 24-hour "13:33" the reply list prints; the site uses the 24-hour clock."""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
