"""Find personal data in a piece of text: phone numbers, email addresses, street addresses and
protected names. Pure functions, no database: the labelled set in tests/safety measures them.

Phone numbers come from ``phonenumbers`` (Google's libphonenumber metadata, offline); the rest are
regular expressions written for English and Spanish conventions. They err towards finding too
much: a false positive costs the writer one confirmation and a moderator one look.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

PHONE = "phone"
EMAIL = "email"
ADDRESS = "address"
NAME = "name"
KINDS = (PHONE, EMAIL, ADDRESS, NAME)


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str


# Email ----------------------------------------------------------------------------------------

_TLDS = r"(?:com|org|net|edu|gov|info|io|es|uk|co|us|mx|ar|cl|pe|eu|de|fr|it|pt|me|biz|cat|gal|eus)"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "ana at example dot org", "ana (arroba) correo punto es", "ana[at]example[dot]org"
_AT = r"(?:\s*[\[(]\s*(?:at|arroba)\s*[\])]\s*|\s+(?:at|arroba)\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[(]\s*(?:dot|punto)\s*[\])]\s*|\s+(?:dot|punto)\s+|\s*\.\s*)"
_OBFUSCATED_EMAIL = re.compile(
    rf"\b[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}{_TLDS}\b",
    re.IGNORECASE | re.UNICODE,
)


def find_emails(text: str) -> list[Finding]:
    found = [Finding(EMAIL, match.group()) for match in _EMAIL.finditer(text)]
    for match in _OBFUSCATED_EMAIL.finditer(text):
        if not any(match.group() in finding.text or finding.text in match.group() for finding in found):
            found.append(Finding(EMAIL, match.group()))
    return found


# Phone numbers --------------------------------------------------------------------------------

# Digits that look like a date, a time, money or a reference are not phone numbers.
_NOT_PHONE_CONTEXT = re.compile(
    r"(?:[€$£¥]\s*$)|(?:\b(?:no|n[ºo°]|ref|report|informe|expediente|exp|case|caso|section|sección|art|artículo|"
    r"ley|law|order|orden|invoice|factura|id|isbn|dni|nif|page|página|pág|p)\.?\s*$)",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*[-–/]\s*(?:19|20)?\d\d$")
_DIGIT = re.compile(r"\d")
MIN_PHONE_DIGITS = 7  # a text with fewer digits holds no phone number
_SPLIT_PHONE = re.compile(r"(?<![\w.,/])\+?\(?\d[\d\s().-]{6,18}\d(?![\w,/]|\.\d)")


def _plausible_phone(raw: str, before: str, after: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if len(digits) < MIN_PHONE_DIGITS or len(digits) > 15:
        return False
    if re.fullmatch(r"\(?\d+\)?", raw.strip()) and len(digits) < 9:
        return False  # a bare run of 7 or 8 digits is a code or an id more often than a phone
    if _DATE_LIKE.match(raw.strip()) or _YEAR_RANGE.match(raw.strip()) or _NOT_PHONE_CONTEXT.search(before[-20:]):
        return False
    if re.search(r"[A-Za-z]-$", before) or re.search(r"\bisbn\b", before[-25:], re.IGNORECASE):
        return False  # a reference like "PA-2024-0007" or a book number
    if after[:1] in {"%", "€", "$", "£"} or re.match(
        r"\s*(?:%|€|euros?|dollars?|pounds?|km|kg|m²|people|personas)\b", after, re.I
    ):
        return False
    return True


def find_phones(text: str, regions: tuple[str, ...] = ("ES", "GB", "US")) -> list[Finding]:
    if len(_DIGIT.findall(text)) < MIN_PHONE_DIGITS:
        # Most replies: no match could be plausible, so the matcher (the guard's dearest part,
        # run once per region) is spared.
        return []
    found: dict[str, Finding] = {}
    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
        for match in matcher:
            if _plausible_phone(match.raw_string, text[: match.start], text[match.end :]):
                found.setdefault(match.raw_string, Finding(PHONE, match.raw_string))
    # Spaced or dotted local numbers the matcher's possible lengths miss ("612 34 56 78").
    for match in _SPLIT_PHONE.finditer(text):
        raw = match.group().strip(" .-")
        if any(raw in key or key in raw for key in found):
            continue
        digits = re.sub(r"\D", "", raw)
        if len(digits) >= 9 and re.search(r"[\s.-]", raw) and not re.fullmatch(r"(?:19|20)\d\d[\s.-].*", raw):
            if _plausible_phone(raw, text[: match.start()], text[match.end() :]):
                found.setdefault(raw, Finding(PHONE, raw))
    return list(found.values())


# Street addresses -----------------------------------------------------------------------------

_EN_STREET_TYPES = (
    r"Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Drive|Dr|Close|Court|Ct|Place|Pl|Way|Terrace|Crescent|Boulevard|Blvd|"
    r"Square|Sq|Gardens|Grove|Row|Walk|Mews|Parade|Highway|Hwy|Park|Rise|View"
)
_EN_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][\w'’-]+\s+){{1,3}}(?:{_EN_STREET_TYPES})\b\.?",
    re.UNICODE,
)
_EN_UNIT = re.compile(r"\b(?:Apt|Apartment|Flat|Unit|Suite)\.?\s*#?\s*\d+[A-Za-z]?\b", re.IGNORECASE)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")
_ES_STREET = re.compile(
    r"(?:\b(?:calle|c/|avda|avenida|av|plaza|pza|paseo|pº|ronda|camino|travesía|travesia|carrer|glorieta|"
    r"urbanización|urbanizacion|urb|carretera|ctra|pasaje|callejón|callejon)\.?|(?<!\w)c/)\s*"
    r"(?!(?:a|en|y|por|con|para|sobre|hasta)\s)"
    r"(?:(?:de|del|la|las|los|el|d')\s+)*[\wÁÉÍÓÚÑáéíóúñ'’-]+(?:\s+[\wÁÉÍÓÚÑáéíóúñ'’-]+){0,3}?"
    r",?\s*(?:n\.?[º°o]\.?\s*|núm\.?\s*|número\s*)?\d{1,4}\b",
    re.IGNORECASE | re.UNICODE,
)
_ES_FLOOR = re.compile(
    r"\b\d{1,2}\s*[º°ª]\s*(?:[A-D]\b|izq|izda|izquierda|dcha|der|dch|derecha|centro)|"
    r"\b(?:piso|planta|portal|escalera|esc\.)\s+\d{1,2}\b|\bbajo\s+[A-D]\b",
    re.IGNORECASE | re.UNICODE,
)


def find_addresses(text: str) -> list[Finding]:
    found = []
    for pattern in (_EN_ADDRESS, _EN_UNIT, _UK_POSTCODE, _ES_STREET, _ES_FLOOR):
        found.extend(Finding(ADDRESS, match.group()) for match in pattern.finditer(text))
    return found


# Protected names ------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "José" and "JOSE" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def find_names(text: str, names: list[str]) -> list[Finding]:
    folded = fold(text)
    found = []
    for name in names:
        words = fold(name).split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)"
        if re.search(pattern, folded):
            found.append(Finding(NAME, name))
    return found


# The host of a web address written as an IPv4 literal ("https://198.51.100.1/users/x"): a
# Fediverse profile on a bare address, not a phone number. The path is kept (wa.me/346…).
_URL_IP_HOST = re.compile(r"(?<=://)(?:[^\s/@]*@)?\d{1,3}(?:\.\d{1,3}){3}(?=[:/?#]|\s|$)")


def find_personal_data(
    text: str, *, protected_names: list[str] | None = None, regions: tuple[str, ...] = ("ES", "GB", "US")
) -> list[Finding]:
    """Every finding in ``text``: emails first (their digits are not phone numbers), then phones,
    addresses and protected names."""
    if not text:
        return []
    emails = find_emails(text)
    rest = _URL_IP_HOST.sub(" ", text)  # a web address's numeric host is no phone number
    for finding in emails:
        rest = rest.replace(finding.text, " ")
    return [
        *emails,
        *find_phones(rest, regions),
        *find_addresses(rest),
        *find_names(text, protected_names or []),
    ]
