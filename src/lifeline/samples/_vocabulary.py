"""Word lists the seed generator draws fake people and companies from.

Names are common given and family names combined at random; cities are real
places (not personal data); streets, companies, e-mail domains, tax ids and
phone numbers are invented. Phone numbers use ranges reserved for fiction
where a country has one (US 555-01xx, UK 07700 900xxx, France 01 99 00) and
a ``555`` block elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Country:
    """What the generator needs to make a plausible record in one country."""

    code: str
    locale: str
    currency: str
    dial: str
    phone_pattern: str  # national number, '#' = random digit
    postal_pattern: str  # '#' = digit, '?' = letter
    street_pattern: str  # {name} and {no}
    cities: tuple[str, ...]
    street_names: tuple[str, ...]
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]
    business_words: tuple[str, ...]
    legal_forms: tuple[str, ...]
    tax_prefix: str
    tax_digits: int


_GERMAN_GIVEN = (
    "Anna", "Lukas", "Katharina", "Johannes", "Maximilian", "Sophie", "Felix",
    "Stephanie", "Jürgen", "Susanne", "Nikolaus", "Lena", "Tobias", "Jörg",
)  # fmt: skip
_GERMAN_FAMILY = (
    "Müller", "Schäfer", "Weiß", "Groß", "Köhler", "Jäger", "Böhm", "Hoffmann",
    "Becker", "Schulz", "Krüger", "Wagner", "Neumann", "Fuchs", "Lehmann",
)  # fmt: skip
_GERMAN_BUSINESS = (
    "Consulting", "Logistik", "Bau", "Software", "Handel", "Elektrotechnik",
    "Immobilien", "Druck", "Metallbau",
)  # fmt: skip
_GERMAN_STREETS = ("Linden", "Birken", "Garten", "Schul", "Berg", "Mühlen", "Hafen")
_ENGLISH_GIVEN = (
    "William", "Elizabeth", "Robert", "Margaret", "Christopher", "Jennifer",
    "Michael", "Theodore", "Olivia", "James", "Emily", "Daniel", "Grace",
)  # fmt: skip
_ENGLISH_FAMILY = (
    "Smith", "Taylor", "Brown", "O'Neill", "Walker", "Hughes", "Bennett",
    "Clarke", "Fletcher", "Harrison", "McKenzie", "Turner", "Ward",
)  # fmt: skip
_ENGLISH_BUSINESS = (
    "Consulting", "Logistics", "Software", "Trading", "Engineering", "Design",
    "Foods", "Analytics",
)  # fmt: skip
_ENGLISH_STREETS = ("Oak", "Maple", "Station", "Church", "Mill", "Harbour", "Park")

COUNTRIES: tuple[Country, ...] = (
    Country(
        "DE",
        "de-DE",
        "EUR",
        "+49",
        "30 555####",
        "#####",
        "{name}straße {no}",
        ("Berlin", "Hamburg", "Köln", "Leipzig", "Nürnberg", "Bremen"),
        _GERMAN_STREETS,
        _GERMAN_GIVEN,
        _GERMAN_FAMILY,
        _GERMAN_BUSINESS,
        ("GmbH", "GmbH & Co. KG", "AG", "UG (haftungsbeschränkt)", "e.K."),
        "DE",
        9,
    ),
    Country(
        "AT",
        "de-AT",
        "EUR",
        "+43",
        "1 555####",
        "####",
        "{name}gasse {no}",
        ("Wien", "Graz", "Linz", "Salzburg"),
        _GERMAN_STREETS,
        _GERMAN_GIVEN,
        _GERMAN_FAMILY,
        _GERMAN_BUSINESS,
        ("GmbH", "KG", "OG"),
        "ATU",
        8,
    ),
    Country(
        "FR",
        "fr-FR",
        "EUR",
        "+33",
        "1 99 00 ## ##",
        "#####",
        "{no} rue {name}",
        ("Lyon", "Nantes", "Lille", "Bordeaux", "Toulouse"),
        ("des Lilas", "Victor Hugo", "de la Paix", "du Moulin", "des Écoles"),
        ("Camille", "Guillaume", "Isabelle", "Théo", "Chloé", "Mathieu", "Élodie"),
        ("Lefèvre", "Girard", "Dubois", "Moreau", "Fontaine", "Chevalier", "Roux"),
        ("Conseil", "Logistique", "Informatique", "Bâtiment", "Distribution"),
        ("SARL", "SAS", "SA"),
        "FR",
        11,
    ),
    Country(
        "NL",
        "nl-NL",
        "EUR",
        "+31",
        "20 555 ####",
        "#### ??",
        "{name}straat {no}",
        ("Utrecht", "Rotterdam", "Eindhoven", "Groningen"),
        ("Linden", "Kerk", "Molen", "Haven", "Tulp"),
        ("Sanne", "Daan", "Frederik", "Femke", "Joris", "Lotte", "Pieter"),
        ("de Vries", "van den Bosch", "Jansen", "van Dijk", "Bakker", "de Jong"),
        ("Advies", "Logistiek", "Techniek", "Bouw"),
        ("B.V.", "V.O.F."),
        "NL",
        9,
    ),
    Country(
        "ES",
        "es-ES",
        "EUR",
        "+34",
        "91 555 ## ##",
        "#####",
        "Calle {name} {no}",
        ("Valencia", "Sevilla", "Zaragoza", "Bilbao", "Málaga"),
        ("Mayor", "del Sol", "de la Luna", "Real", "Nueva"),
        ("José", "Francisco", "Lucía", "Carmen", "Javier", "María José", "Pablo"),
        ("García", "Martínez", "Muñoz", "Fernández", "López", "Sánchez", "Peña"),
        ("Consultoría", "Logística", "Construcciones", "Distribuciones"),
        ("S.L.", "S.A."),
        "ES",
        9,
    ),
    Country(
        "GB",
        "en-GB",
        "GBP",
        "+44",
        "7700 900###",
        "?# #??",
        "{no} {name} Road",
        ("Leeds", "Bristol", "Manchester", "Glasgow", "Norwich"),
        _ENGLISH_STREETS,
        _ENGLISH_GIVEN,
        _ENGLISH_FAMILY,
        _ENGLISH_BUSINESS,
        ("Ltd", "Limited", "LLP"),
        "GB",
        9,
    ),
    Country(
        "US",
        "en-US",
        "USD",
        "+1",
        "### 555-01##",
        "#####",
        "{no} {name} Street",
        ("Portland", "Austin", "Denver", "Columbus", "Raleigh"),
        _ENGLISH_STREETS,
        _ENGLISH_GIVEN,
        _ENGLISH_FAMILY,
        _ENGLISH_BUSINESS,
        ("Inc.", "LLC", "Corp."),
        "",
        9,
    ),
    Country(
        "SE",
        "sv-SE",
        "SEK",
        "+46",
        "8 555 ## ##",
        "### ##",
        "{name}gatan {no}",
        ("Göteborg", "Malmö", "Uppsala", "Umeå"),
        ("Kyrko", "Stor", "Strand", "Skol"),
        ("Astrid", "Björn", "Ingrid", "Lars", "Maja", "Oskar", "Sofia"),
        ("Åberg", "Ström", "Lindqvist", "Nyström", "Sjöberg", "Holm"),
        ("Konsult", "Logistik", "Bygg", "Data"),
        ("AB", "HB"),
        "SE",
        12,
    ),
    Country(
        "PL",
        "pl-PL",
        "PLN",
        "+48",
        "22 555 ## ##",
        "##-###",
        "ul. {name} {no}",
        ("Kraków", "Wrocław", "Gdańsk", "Poznań", "Łódź"),
        ("Polna", "Leśna", "Słoneczna", "Krótka", "Ogrodowa"),
        ("Aleksander", "Magdalena", "Wojciech", "Agnieszka", "Piotr", "Zofia"),
        ("Nowak", "Wójcik", "Kowalczyk", "Zieliński", "Lewandowska", "Dąbrowski"),
        ("Doradztwo", "Logistyka", "Budownictwo", "Informatyka"),
        ("Sp. z o.o.", "S.A."),
        "PL",
        10,
    ),
)

# How often each country appears, in COUNTRIES order.
COUNTRY_WEIGHTS = (30, 6, 10, 7, 7, 14, 12, 5, 9)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will"),
    "Elizabeth": ("Liz", "Beth"),
    "Robert": ("Bob", "Rob"),
    "Margaret": ("Maggie", "Peggy"),
    "Christopher": ("Chris",),
    "Jennifer": ("Jen", "Jenny"),
    "Michael": ("Mike",),
    "Theodore": ("Ted", "Theo"),
    "James": ("Jim", "Jamie"),
    "Daniel": ("Dan",),
    "Katharina": ("Kathi", "Katja"),
    "Johannes": ("Hannes",),
    "Maximilian": ("Max",),
    "Stephanie": ("Steffi",),
    "Nikolaus": ("Niko", "Klaus"),
    "Susanne": ("Susi",),
    "Guillaume": ("Guillo",),
    "Isabelle": ("Isa",),
    "Frederik": ("Freek",),
    "José": ("Pepe",),
    "Francisco": ("Paco",),
    "Aleksander": ("Olek",),
    "Magdalena": ("Magda",),
    "Wojciech": ("Wojtek",),
}

TITLES = ("Dr.", "Prof.", "Mr.", "Ms.")

BRAND_HEADS = ("Nord", "Blue", "Alp", "Oak", "Lumen", "Terra", "Vela", "Kobalt")
BRAND_TAILS = ("wind", "stone", "field", "line", "works", "bridge", "gate", "leaf")

PERSONAL_MAIL_DOMAINS = (
    "example.com",
    "mail.example.com",
    "post.example.net",
    "inbox.example.org",
)
SHARED_MAILBOXES = ("accounts", "billing", "info", "office", "invoices")

# Transliteration used for e-mail local parts, domains and "ASCII" name forms.
ASCII_FOLD = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe",
        "Ü": "Ue", "å": "a", "Å": "A", "é": "e", "è": "e", "É": "E", "ç": "c",
        "á": "a", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ł": "l", "Ł": "L",
        "ś": "s", "ń": "n", "ż": "z", "ź": "z", "ć": "c", "ę": "e", "ą": "a",
        "â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ï": "i", "ë": "e",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Product:
    """A catalogue item; ``hourly`` items are sold in fractional hours."""

    sku: str
    description: str
    unit_price: Decimal
    hourly: bool = False


PRODUCTS: tuple[Product, ...] = (
    Product("HW-1001", "Office chair, ergonomic", Decimal("289.00")),
    Product("HW-1002", "Standing desk, 160 cm", Decimal("649.00")),
    Product("HW-1010", "Monitor arm, dual", Decimal("119.90")),
    Product("HW-1020", "Docking station USB-C", Decimal("179.00")),
    Product("HW-1030", "Label printer", Decimal("89.50")),
    Product("CON-2001", "Printer paper A4, 5 reams", Decimal("24.95")),
    Product("CON-2002", "Toner cartridge, black", Decimal("64.00")),
    Product("CON-2010", "Packing tape, 36 rolls", Decimal("42.30")),
    Product("SW-3001", "Inventory suite licence, 1 year", Decimal("1200.00")),
    Product("SW-3002", "Support plan, monthly", Decimal("149.00")),
    Product("SVC-4001", "Consulting", Decimal("120.00"), hourly=True),
    Product("SVC-4002", "Installation on site", Decimal("95.00"), hourly=True),
    Product("SVC-4003", "Training session", Decimal("110.00"), hourly=True),
)

FAILURE_REASONS = (
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "mandate_revoked",
    "bank_account_closed",
)
PAYMENT_METHODS = ("card", "sepa_debit", "bank_transfer")
