"""The demo operator's reference data: an Indonesian carrier's destinations (mobile
operators, fixed-line area codes, international), its price lists and customers,
and a month of Asterisk calls. Deterministic: the same data on every run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

# Indonesian mobile operators and their 62 8xx prefixes; each is split into ten
# number blocks (6281 2 0 ... 6281 2 9), as operators' rate decks list them.
MOBILE: dict[str, tuple[str, ...]] = {
    "Telkomsel": ("811", "812", "813", "821", "822", "823", "851", "852", "853"),
    "Indosat Ooredoo": ("814", "815", "816", "855", "856", "857", "858"),
    "XL Axiata": ("817", "818", "819", "859", "877", "878"),
    "Axis": ("831", "832", "833", "838"),
    "Smartfren": ("881", "882", "883", "884", "885", "886", "887", "888", "889"),
    "Tri": ("895", "896", "897", "898", "899"),
}
# Fixed-line area codes (without the trunk 0) and their cities.
AREAS: dict[str, str] = {
    "21": "Jakarta",
    "22": "Bandung",
    "24": "Semarang",
    "31": "Surabaya",
    "61": "Medan",
    "274": "Yogyakarta",
    "361": "Denpasar",
    "411": "Makassar",
    "711": "Palembang",
    "751": "Padang",
    "761": "Pekanbaru",
    "721": "Bandar Lampung",
    "561": "Pontianak",
    "511": "Banjarmasin",
    "541": "Samarinda",
    "542": "Balikpapan",
    "431": "Manado",
    "341": "Malang",
    "271": "Surakarta",
    "251": "Bogor",
    "254": "Serang",
    "231": "Cirebon",
    "370": "Mataram",
    "380": "Kupang",
    "967": "Jayapura",
    "911": "Ambon",
    "778": "Batam",
    "741": "Jambi",
    "736": "Bengkulu",
    "651": "Banda Aceh",
}
# International destinations: country code, name, mobile prefixes after the code.
COUNTRIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1", "USA and Canada", ()),
    ("44", "United Kingdom", ("7",)),
    ("61", "Australia", ("4",)),
    ("65", "Singapore", ("8", "9")),
    ("60", "Malaysia", ("1",)),
    ("81", "Japan", ("70", "80", "90")),
    ("82", "South Korea", ("10",)),
    ("86", "China", ("13", "15", "18")),
    ("852", "Hong Kong", ("5", "6", "9")),
    ("886", "Taiwan", ("9",)),
    ("91", "India", ("7", "8", "9")),
    ("63", "Philippines", ("9",)),
    ("66", "Thailand", ("6", "8", "9")),
    ("84", "Vietnam", ("3", "9")),
    ("673", "Brunei", ("7", "8")),
    ("670", "Timor-Leste", ("7",)),
    ("966", "Saudi Arabia", ("5",)),
    ("971", "United Arab Emirates", ("5",)),
    ("974", "Qatar", ("3", "5", "6", "7")),
    ("965", "Kuwait", ("5", "6", "9")),
    ("973", "Bahrain", ("3",)),
    ("968", "Oman", ("9",)),
    ("90", "Turkey", ("5",)),
    ("49", "Germany", ("15", "16", "17")),
    ("31", "Netherlands", ("6",)),
    ("33", "France", ("6", "7")),
    ("39", "Italy", ("3",)),
    ("34", "Spain", ("6", "7")),
    ("41", "Switzerland", ("7",)),
    ("7", "Russia", ("9",)),
    ("20", "Egypt", ("1",)),
    ("27", "South Africa", ("6", "7", "8")),
    ("64", "New Zealand", ("2",)),
    ("92", "Pakistan", ("3",)),
    ("880", "Bangladesh", ("1",)),
    ("94", "Sri Lanka", ("7",)),
    ("95", "Myanmar", ("9",)),
    ("855", "Cambodia", ("1", "9")),
    ("856", "Laos", ("20",)),
    ("55", "Brazil", ("9",)),
)


@dataclass(frozen=True)
class Destination:
    prefix: str  # the destination prefix after cleaning (62..., 44...)
    description: str
    kind: str  # mobile, fixed, international: what the price depends on


def destinations() -> list[Destination]:
    found: list[Destination] = [Destination("62", "Indonesia", "fixed")]
    for operator, prefixes in MOBILE.items():
        for prefix in prefixes:
            found.append(Destination(f"62{prefix}", f"Indonesia Mobile {operator}", "mobile"))
            found += [
                Destination(f"62{prefix}{block}", f"Indonesia Mobile {operator}", "mobile")
                for block in range(10)
            ]
    for area, city in AREAS.items():
        found.append(Destination(f"62{area}", f"Indonesia Fixed {city}", "fixed"))
        found += [
            Destination(f"62{area}{exchange}", f"Indonesia Fixed {city}", "fixed")
            for exchange in range(2, 10)
        ]
    for code, country, mobiles in COUNTRIES:
        found.append(Destination(code, country, "international"))
        found += [
            Destination(f"{code}{mobile}", f"{country} Mobile", "international")
            for mobile in mobiles
        ]
    return found


@dataclass(frozen=True)
class PriceList:
    """A demo rate group: one rate type and cycle, and its prices in IDR."""

    name: str
    memo: str
    rate_type: str
    cycle: int
    initial: int | None
    prices: dict[str, Decimal]  # per kind of destination
    connect_fee: Decimal = Decimal(0)


PRICE_LISTS = (
    PriceList(
        "Retail per minute 60/60",
        "Per minute, every started minute billed",
        "per_minute",
        60,
        None,
        {"mobile": Decimal(1500), "fixed": Decimal(900), "international": Decimal(7500)},
    ),
    PriceList(
        "Business 30/6",
        "Per minute, first 30 s then 6 s increments",
        "per_minute",
        6,
        30,
        {"mobile": Decimal(1250), "fixed": Decimal(750), "international": Decimal(6000)},
    ),
    PriceList(
        "Wholesale per second",
        "Per second, 1 s increments",
        "per_second",
        1,
        None,
        {"mobile": Decimal("18.5"), "fixed": Decimal("11.25"), "international": Decimal(95)},
    ),
    PriceList(
        "Call centre 30/30",
        "Per second, 30 s increments, connect fee",
        "per_second",
        30,
        None,
        {"mobile": Decimal(20), "fixed": Decimal(12), "international": Decimal(110)},
        connect_fee=Decimal(100),
    ),
    PriceList(
        "Hotline flat rate",
        "One price per answered call",
        "flat_rate",
        60,
        None,
        {"mobile": Decimal(2500), "fixed": Decimal(1500), "international": Decimal(15000)},
    ),
)


def rate_deck(price_list: PriceList, destinations_: list[Destination]) -> str:
    """The price list as a rate deck CSV (``telecrm rates import``'s columns)."""
    lines = [
        "rate_prefix,description,rate_type,billing_rate,billing_cycle,initial_increment,connect_fee"
    ]
    for index, destination in enumerate(destinations_):
        # longer prefixes are a little cheaper, so the longest match visibly matters
        price = price_list.prices[destination.kind] * (100 - index % 7) / 100
        price = price.quantize(Decimal("0.0001"))
        lines.append(
            f"{destination.prefix},{destination.description},{price_list.rate_type},{price},"
            f"{price_list.cycle},{price_list.initial or ''},{price_list.connect_fee}"
        )
    return "\n".join(lines) + "\n"


FIRST = ("Maju", "Sinar", "Cahaya", "Bintang", "Karya", "Mitra", "Sumber", "Mega", "Graha", "Nusa")
SECOND = (
    "Jaya",
    "Abadi",
    "Makmur",
    "Sentosa",
    "Perkasa",
    "Mandiri",
    "Lestari",
    "Utama",
    "Sejahtera",
)
TRADES = ("Logistik", "Teknologi", "Niaga", "Telekomunikasi", "Farmasi", "Properti", "Energi")
STREETS = (
    "Jl. Jend. Sudirman",
    "Jl. M.H. Thamrin",
    "Jl. Gatot Subroto",
    "Jl. H.R. Rasuna Said",
    "Jl. Pemuda",
    "Jl. Basuki Rahmat",
    "Jl. Asia Afrika",
    "Jl. Diponegoro",
)
CITIES = (
    ("Jakarta Pusat", "10310"),
    ("Jakarta Selatan", "12950"),
    ("Surabaya", "60271"),
    ("Bandung", "40111"),
    ("Semarang", "50132"),
    ("Medan", "20112"),
    ("Denpasar", "80234"),
)
PEOPLE = (
    "Budi Santoso",
    "Siti Rahayu",
    "Agus Wijaya",
    "Dewi Lestari",
    "Rudi Hartono",
    "Ratna Sari",
    "Hendra Gunawan",
    "Putri Anggraini",
    "Eko Prasetyo",
    "Wulan Kusuma",
)


def contracts_csv(count: int, rate_group_ids: list[int]) -> str:
    rng = random.Random(4004)
    rows = [
        [
            "company_name",
            "accountcode",
            "contact_person",
            "email",
            "phone",
            "address",
            "status",
            "rate_group_id",
            "currency",
            "tax_rate",
            "payment_terms_days",
        ]
    ]
    for number in range(1, count + 1):
        name = f"PT {rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(TRADES)}"
        person = rng.choice(PEOPLE)
        city, postcode = rng.choice(CITIES)
        domain = name.removeprefix("PT ").split()[0].lower() + f"{number}.co.id"
        rows.append(
            [
                name,
                f"IDC{number:04d}",
                person,
                f"{person.split()[0].lower()}@{domain}",
                f"+6221{rng.randrange(5_000_000, 8_000_000)}",
                f"{rng.choice(STREETS)} No. {rng.randint(1, 250)}\n{city} {postcode}",
                "active" if number % 17 else "suspended",
                str(rate_group_ids[number % len(rate_group_ids)]),
                "IDR",
                "11",
                "30" if number % 3 else "14",
            ]
        )
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _dialled(rng: random.Random, destination: Destination) -> str:
    """How a PBX user dials the destination: 0 trunk prefix at home, 00 or + abroad,
    sometimes with spaces or dashes."""
    rest = "".join(str(rng.randrange(10)) for _ in range(max(4, 11 - len(destination.prefix))))
    if destination.prefix.startswith("62"):
        national = "0" + destination.prefix[2:] + rest
        return rng.choice(
            (
                national,
                national,
                f"+62{destination.prefix[2:]}{rest}",
                f"{national[:4]}-{national[4:8]}-{national[8:]}",
            )
        )
    return rng.choice(("00", "+")) + destination.prefix + rest


def write_master_csv(
    path: Path,
    count: int,
    accountcodes: list[str],
    month_start: dt.date,
    tz: ZoneInfo,
    destinations_: list[Destination],
) -> None:
    """``count`` calls of the month in Asterisk ``cdr_csv``'s Master.csv (18 columns:
    with uniqueid and userfield), local times in ``tz``. A few calls are internal
    (extension to extension) or to nowhere, as on a real PBX."""
    rng = random.Random(100_000)
    next_month = (month_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    seconds = int(
        (
            dt.datetime.combine(next_month, dt.time()) - dt.datetime.combine(month_start, dt.time())
        ).total_seconds()
    )
    start_of_month = dt.datetime.combine(month_start, dt.time())
    popular = [d for d in destinations_ if len(d.prefix) >= 4]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        for index in range(count):
            accountcode = accountcodes[index % len(accountcodes)]
            extension = str(1000 + rng.randrange(200))
            roll = rng.random()
            if roll < 0.02:
                dst = str(1000 + rng.randrange(200))  # internal call
            elif roll < 0.025:
                dst = "999" + str(rng.randrange(10))  # a short code no rate covers
            else:
                dst = _dialled(rng, rng.choice(popular))
            start = start_of_month + dt.timedelta(seconds=rng.randrange(seconds))
            answered = rng.random() < 0.8
            billsec = int(rng.expovariate(1 / 150)) + 1 if answered else 0
            ring = rng.randint(2, 25)
            answer = start + dt.timedelta(seconds=ring) if answered else None
            end = start + dt.timedelta(seconds=ring + billsec)
            disposition = "ANSWERED" if answered else rng.choice(("NO ANSWER", "BUSY", "FAILED"))
            fmt = "%Y-%m-%d %H:%M:%S"
            writer.writerow(
                [
                    accountcode,
                    extension,
                    dst,
                    "from-internal",
                    f'"{extension}" <{extension}>',
                    f"SIP/{extension}-{index:08x}",
                    f"SIP/trunk-{index:08x}" if answered else "",
                    "Dial",
                    f"SIP/trunk/{dst},60",
                    start.strftime(fmt),
                    answer.strftime(fmt) if answer else "",
                    end.strftime(fmt),
                    str(ring + billsec),
                    str(billsec),
                    disposition,
                    "DOCUMENTATION",
                    f"{int(start.replace(tzinfo=tz).timestamp())}.{index}",
                    "",
                ]
            )
