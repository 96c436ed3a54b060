"""Synthetic names for people, streets and places, built from invented syllables and plain words.

No list of real people's names is used: given and family names are made by
joining invented syllables, so any resemblance to a real person's name is
chance. Name popularity follows a Zipf law, as real names do, so the same name
can belong to several people (which matters in the linkage lessons).
"""

from __future__ import annotations

import numpy as np

from fewpoints.common import rng_keyword

_ONSETS = np.array(
    [
        "b",
        "d",
        "f",
        "g",
        "h",
        "j",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "dr",
        "kr",
        "tr",
        "sh",
        "ch",
        "th",
        "st",
        "gl",
        "pl",
        "sl",
        "fr",
        "w",
        "y",
    ]
)
_VOWELS = np.array(["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "io", "ou", "y"])
_CODAS = np.array(["", "", "", "n", "r", "l", "s", "m", "th", "rd", "nd", "x", "v", "sk", "lt"])

#: Plain words for streets and businesses (ordinary vocabulary, not a names list).
WORDS = np.array(
    [
        "Alder",
        "Amber",
        "Ash",
        "Aspen",
        "Bay",
        "Beacon",
        "Birch",
        "Bramble",
        "Brook",
        "Canal",
        "Cedar",
        "Chalk",
        "Clover",
        "Copper",
        "Coral",
        "Cross",
        "Dale",
        "Elm",
        "Fern",
        "Field",
        "Flint",
        "Fox",
        "Garnet",
        "Glen",
        "Granite",
        "Harbor",
        "Hazel",
        "Heath",
        "Hill",
        "Holly",
        "Iris",
        "Ivy",
        "Juniper",
        "Kestrel",
        "Lake",
        "Larch",
        "Laurel",
        "Linden",
        "Maple",
        "Marsh",
        "Meadow",
        "Mill",
        "Moss",
        "North",
        "Oak",
        "Orchard",
        "Pine",
        "Poplar",
        "Quarry",
        "Raven",
        "Reed",
        "Ridge",
        "River",
        "Rowan",
        "Sage",
        "Salt",
        "South",
        "Spring",
        "Spruce",
        "Stone",
        "Sun",
        "Thistle",
        "Tide",
        "Valley",
        "Vine",
        "Willow",
        "Wren",
        "Yew",
        "East",
        "West",
    ]
)
STREET_SUFFIXES = np.array(
    ["Street", "Avenue", "Lane", "Road", "Way", "Court", "Row", "Place", "Terrace"]
)

#: How a place of each kind is named: a word from WORDS, then one of these.
PLACE_SUFFIXES: dict[str, list[str]] = {
    "work": [
        "Logistics",
        "Labs",
        "Works",
        "Systems",
        "Foods",
        "Textiles",
        "Press",
        "Offices",
        "Engineering",
        "Bank",
        "Insurance",
        "Motors",
        "Studio",
        "Depot",
        "Hospital Annex",
    ],
    "school": ["Primary School", "High School", "College", "Academy"],
    "shop": ["Market", "Grocers", "Hardware", "Books", "Pharmacy", "Mall", "Bakery"],
    "food": ["Cafe", "Diner", "Kitchen", "Noodle Bar", "Pizzeria", "Tavern", "Tea House"],
    "leisure": ["Park", "Gym", "Cinema", "Pool", "Library", "Sports Ground", "Gallery"],
    "out_of_town": [
        "Beach",
        "Lake Resort",
        "Outlet Village",
        "Ski Lodge",
        "Country Park",
        "Campground",
        "Stadium",
    ],
    "health": [
        "Health Clinic",
        "Medical Centre",
        "Family Planning Clinic",
        "Mental Health Service",
        "Addiction Recovery Centre",
        "HIV Testing Clinic",
        "Hospital",
    ],
    "worship": ["Chapel", "Church", "Mosque", "Synagogue", "Temple", "Gurdwara", "Meeting House"],
    "legal_aid": ["Legal Aid Office", "Immigration Law Clinic", "Tenants' Rights Centre"],
    "shelter": ["Shelter", "Women's Refuge", "Youth Shelter"],
}


def _zipf_weights(n: int, exponent: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _syllable_words(
    n: int, rng: np.random.Generator, *, min_syll: int, max_syll: int
) -> np.ndarray:
    """``n`` distinct capitalised words of invented syllables."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        m = 2 * (n - len(out)) + 16
        k = rng.integers(min_syll, max_syll + 1, size=m)
        words = np.full(m, "", dtype=object)
        for j in range(max_syll):
            syl = (
                _ONSETS[rng.integers(len(_ONSETS), size=m)].astype(object)
                + _VOWELS[rng.integers(len(_VOWELS), size=m)]
            )
            # Only a word's last syllable may close with a consonant cluster.
            coda = _CODAS[rng.integers(len(_CODAS), size=m)].astype(object)
            syl = np.where(j == k - 1, syl + coda, syl)
            words = np.where(j < k, words + syl, words)
        for w in words:
            w = str(w).capitalize()
            if 3 <= len(w) <= 9 and w not in seen:
                seen.add(w)
                out.append(w)
                if len(out) == n:
                    break
    return np.array(out, dtype=object)


@rng_keyword
def make_vocabulary(
    *, n_given: int = 700, n_family: int = 2500, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Invented given names and family names (each list distinct)."""
    return (
        _syllable_words(n_given, rng, min_syll=2, max_syll=2),
        _syllable_words(n_family, rng, min_syll=2, max_syll=3),
    )


@rng_keyword
def draw_names(
    vocab: np.ndarray, size: int, *, exponent: float = 1.0, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``size`` names from ``vocab`` with Zipf popularity (a few common names, many rare)."""
    idx = rng.choice(len(vocab), size=size, p=_zipf_weights(len(vocab), exponent))
    return vocab[idx]


@rng_keyword
def town_names(n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct invented town names (two or three syllables, like ``"Brandor"``)."""
    return _syllable_words(n, rng, min_syll=2, max_syll=3)


@rng_keyword
def street_names(n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` street names like ``"Alder Lane"`` (distinct while they last, then reused)."""
    combos = np.char.add(
        np.char.add(np.repeat(WORDS, len(STREET_SUFFIXES)), " "),
        np.tile(STREET_SUFFIXES, len(WORDS)),
    )
    combos = combos[rng.permutation(len(combos))]
    return combos[np.arange(n) % len(combos)].astype(object)


@rng_keyword
def place_names(kind: str, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` names for places of ``kind`` (e.g. ``"Laurel Health Clinic"``)."""
    suffixes = np.array(PLACE_SUFFIXES[kind], dtype=object)
    first = WORDS.astype(object)[rng.integers(len(WORDS), size=n)]
    return first + " " + suffixes[rng.integers(len(suffixes), size=n)]
