"""Generate a deterministic, realistic archive of dated articles as JSONL.

Usage::

    python bench/gen.py N -o FILE.jsonl [--seed 42] [--titles TITLES.txt]

Each line is one JSON object with the keys ``title``, ``date``, ``excerpt``, ``category``
and ``url``. Dates are uniform over 1990-01-01..2026-10-31, with ~0.5 % month-only
(``YYYY-MM``), ~0.2 % year-only (``YYYY``) and ~0.1 % records without a ``date`` key.
Known articles (see ``common.PLANTED``) are planted at fixed positions with URLs
``https://example.org/planted/<k>``. Output is a pure function of ``(N, seed)``: the
vocabulary is built from a fixed internal seed and records from ``random.Random(seed)``.
Records are streamed, so memory use does not grow with N.
"""

from __future__ import annotations

import argparse
import array
import bisect
import itertools
import json
import operator
import random
import re
import sys
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_SEED, PLANTED, planted_positions  # noqa: E402

VOCAB_SEED = 20220207
N_PSEUDO_WORDS = 4000
FIRST_DAY = date(1990, 1, 1).toordinal()
LAST_DAY = date(2026, 10, 31).toordinal()
BATCH = 4096

CATEGORIES = ("International Relations", "Economy", "Security", "Energy", "Culture", "Politics")
CATEGORY_CUM = tuple(itertools.accumulate((30, 20, 15, 12, 8, 15)))

TOPIC_WORDS = """
policy cooperation security summit agreement crisis relations trade energy economy
diplomacy sanctions development integration strategy dialogue conflict war peace
reform election parliament government president minister ministry treaty alliance
partnership investment infrastructure pipeline gas oil nuclear deal region regional
border water climate migration labour market currency inflation growth recession
debt budget bank banking finance tariff export import customs transit corridor
railway road port logistics connectivity digital technology innovation cyber
terrorism extremism defence military army exercise drills deployment withdrawal
negotiations talks visit meeting forum conference declaration statement anniversary
history role future challenges opportunities prospects risks outlook review analysis
perspective perspectives dimension dimensions context implications lessons takeaways
developments trends dynamics transformation transition modernisation independence
sovereignty stability instability tensions rivalry competition influence power
soft hard great middle balance order world global local national international
multilateral bilateral trilateral strategic economic political cultural spiritual
social humanitarian environmental ethnocultural religious linguistic educational
youth women media press freedom rights human law constitution court justice
corruption governance democracy authoritarianism protest protests opposition party
parties coalition vote referendum census population demography urbanisation
agriculture food grain wheat cotton harvest drought irrigation hydropower dam
electricity grid renewable solar wind coal uranium mining minerals lithium copper
gold rare earths supply chain chains shipping freight aviation tourism culture
heritage language literature cinema music festival sport sports olympics education
university universities students scholarship research science health pandemic
covid vaccine vaccines hospital hospitals medicine aid assistance refugees
displacement settlement reconstruction recovery resilience adaptation vulnerability
cooperative joint common shared new old first second third latest key main major
emerging rising declining expanding changing evolving uncertain fragile stable
long-term short-term mid-term annual quarterly historic unprecedented landmark
vision doctrine concept initiative programme project projects plan action roadmap
framework mechanism institution institutions organisation organization secretariat
council committee commission assembly delegation mission embassy consulate envoy
ambassador foreign affairs interior defence affairs leader leaders heads states
state countries country nations nation republic republics federation union bloc
neighbours neighbourhood partners partner allies donors creditors investors
companies corporations enterprises startups entrepreneurs workers farmers citizens
diaspora community communities minorities identity memory narrative narratives
propaganda disinformation information intelligence surveillance espionage hybrid
threats threat response responses measures sanctions embargo blockade ceasefire
mediation arbitration dispute disputes claims territory territorial maritime
airspace space satellite satellites arms control proliferation disarmament
missile missiles drone drones weapons nuclear-free zone zones buffer frontier
gateway hub crossroads heartland steppe mountains valley basin sea lake river
connectivity-driven post-pandemic pre-election cross-border
transboundary intergovernmental interregional transcontinental
""".split()

ADJECTIVES = """
Caspian Aral Arctic Pacific Atlantic Eurasian Asian European African American Turkic
Slavic Persian Arab Chinese Russian Indian Iranian Afghan Kazakh Uzbek Kyrgyz Tajik
Turkmen Azerbaijani Georgian Armenian Ukrainian Belarusian Mongolian Pakistani Turkish
German French British Japanese Korean Post-Soviet Trans-Caspian Sino-Russian
""".split()

FUNCTION_WORDS = """
the the the the of of of of and and and in in in to to to a a a for for on on
with with by by as as at at from from that that this these those its their
which who while during after before between among within across over under
was were is are has have had been being will would could may might must can
also not only but or nor yet so than more most less least many much several
such other another each every both all some any no new further recent
""".split()

COUNTRIES = """
Afghanistan Albania Algeria Angola Argentina Armenia Australia Austria Azerbaijan
Bahrain Bangladesh Belarus Belgium Bhutan Bolivia Brazil Bulgaria Cambodia Cameroon
Canada Chile China Colombia Croatia Cuba Cyprus Czechia Denmark Egypt Estonia
Ethiopia Finland France Georgia Germany Ghana Greece Hungary Iceland India Indonesia
Iran Iraq Ireland Israel Italy Japan Jordan Kazakhstan Kenya Kosovo Kuwait
Kyrgyzstan Laos Latvia Lebanon Libya Lithuania Luxembourg Malaysia Mali Mexico
Moldova Mongolia Montenegro Morocco Myanmar Nepal Netherlands Nigeria Norway Oman
Pakistan Palestine Peru Philippines Poland Portugal Qatar Romania Russia Rwanda
Serbia Singapore Slovakia Slovenia Somalia Spain Sudan Sweden Switzerland Syria
Taiwan Tajikistan Tanzania Thailand Tunisia Türkiye Turkmenistan Uganda Ukraine
Uruguay Uzbekistan Venezuela Vietnam Yemen Zambia Zimbabwe Côte-d’Ivoire
""".split()

MULTIWORD_PLACES = (
    "Saudi Arabia",
    "South Korea",
    "North Korea",
    "United States",
    "United Kingdom",
    "United Arab Emirates",
    "South Africa",
    "New Zealand",
    "Sri Lanka",
    "Central Asia",
    "South Caucasus",
    "Middle East",
    "South Asia",
    "East Asia",
    "Southeast Asia",
    "Black Sea",
    "Caspian Sea",
    "Persian Gulf",
    "Fergana Valley",
    "Wakhan Corridor",
    "Nur-Sultan",
    "New Delhi",
    "Hong Kong",
    "Kuala Lumpur",
    "Middle Corridor",
    "Belt and Road",
)

CITIES = """
Almaty Astana Shymkent Karaganda Aktobe Atyrau Aktau Oral Semey Taraz Kyzylorda
Turkistan Tashkent Samarkand Bukhara Khiva Nukus Namangan Andijan Fergana Termez
Bishkek Osh Karakol Jalal-Abad Naryn Dushanbe Khujand Khorog Kulob Bokhtar
Ashgabat Türkmenabat Mary Dashoguz Balkanabat Baku Ganja Sumqayit Tbilisi Batumi
Kutaisi Yerevan Gyumri Tehran Mashhad Tabriz Isfahan Kabul Herat Kandahar Mazar-i-Sharif
Islamabad Karachi Lahore Peshawar Ulaanbaatar Urumqi Kashgar Beijing Shanghai
Moscow Kazan Novosibirsk Omsk Orenburg Astrakhan Ankara Istanbul İzmir Konya
Kyiv Minsk Chișinău Warsaw Berlin Brussels Paris London Vienna Geneva Riga
Vilnius Tallinn Helsinki Stockholm Washington Tokyo Seoul Mumbai Dhaka Doha
Riyadh Dubai Cairo Jerusalem Damascus Baghdad Erbil Gwadar Chabahar Qarshi
""".split()

RESERVED_NAMES = frozenset({"Shanghai Cooperation Organization"})

ORGANISATIONS = (
    "Shanghai Cooperation Organization",
    "European Union",
    "Collective Security Treaty Organization",
    "Eurasian Economic Union",
    "Organization of Turkic States",
    "Commonwealth of Independent States",
    "Conference on Interaction and Confidence-Building Measures in Asia",
    "CICA",
    "SCO",
    "CSTO",
    "EAEU",
    "NATO",
    "OSCE",
    "ASEAN",
    "BRICS",
    "OPEC",
    "United Nations",
    "UN Security Council",
    "World Bank",
    "International Monetary Fund",
    "Asian Development Bank",
    "Asian Infrastructure Investment Bank",
    "European Bank for Reconstruction and Development",
    "World Trade Organization",
    "Organisation of Islamic Cooperation",
    "Economic Cooperation Organization",
    "Gulf Cooperation Council",
    "African Union",
    "G20",
    "G7",
    "C5+1",
    "Belt and Road Initiative",
    "Eastern Partnership",
    "International Atomic Energy Agency",
    "Caspian Pipeline Consortium",
    "TAPI Pipeline",
    "CAREC Program",
    "TRACECA",
    "Astana Process",
    "Minsk Group",
)

ONSETS = ("b k t z sh kh r l m n d g s v y j ch zh br tr st gr p f h dr kl pl sk ts q").split()
VOWELS = "a e i o u a e i o u ai ia ou ya yu ü ö ı ä é".split()
CODAS = [""] * 12 + "n r k m st l sh z t nd rk v ng".split()

TEMPLATES = (
    "{P}",
    "{P}",
    "{P} in {L}",
    "{E}: {P}",
    "{P} between {L} and {L}",
    "{L} and the {E}: {P}",
    "{L}–{L} {P}",
    "The {P} of {E}",
    "{N} {P} in {L}",
    "{P}: {L} after {Y}",
)


def pseudo_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Build ``count`` distinct pronounceable pseudo-words not already in ``taken``."""
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 2, 3, 3))
        word = "".join(
            rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(n: int, total: float, exponent: float = 0.6) -> list[float]:
    """Zipf-like weights for ``n`` items in rank order, summing to ``total``."""
    raw = [1.0 / (rank**exponent) for rank in range(1, n + 1)]
    scale = total / sum(raw)
    return [w * scale for w in raw]


def uniform_weights(n: int, total: float) -> list[float]:
    """Equal weights for ``n`` items, summing to ``total``."""
    return [total / n] * n


class Sampler:
    """Weighted sampling with replacement through a 65,536-slot lookup table.

    Every word gets at least one slot, so rare words keep a probability of >= 1/65536.
    Drawing ``k`` words costs one ``randbytes`` call and one C-level ``itemgetter`` call,
    several times faster than ``random.choices`` with weights.
    """

    SLOTS = 1 << 16

    def __init__(self, words: list[str], weights: list[float]) -> None:
        total = sum(weights)
        counts = [max(1, round(w / total * self.SLOTS)) for w in weights]
        top = max(range(len(counts)), key=counts.__getitem__)
        counts[top] += self.SLOTS - sum(counts)  # Absorb rounding in the most frequent word.
        self.table = [word for word, count in zip(words, counts, strict=True) for _ in range(count)]
        self.words = words

    def sample(self, rng: random.Random, k: int) -> list[str]:
        """Draw ``k`` words; deterministic for a given ``rng`` state on any platform."""
        indexes = array.array("H", rng.randbytes(2 * k))
        if sys.byteorder == "big":
            indexes.byteswap()
        if k == 1:
            return [self.table[indexes[0]]]
        return list(operator.itemgetter(*indexes)(self.table))


@dataclass
class Vocabulary:
    """Weighted word pools for titles and excerpts (several thousand distinct words)."""

    title_words: Sampler
    text_words: Sampler
    places: list[str]
    entities: list[str]

    @classmethod
    def build(cls) -> Vocabulary:
        """Build the vocabulary from a fixed seed, independent of the record seed."""
        rng = random.Random(VOCAB_SEED)
        topics = list(dict.fromkeys([*TOPIC_WORDS, *ADJECTIVES]))
        rng.shuffle(topics)  # Zipf rank order should not follow the listing order.
        places = list(dict.fromkeys([*COUNTRIES, *CITIES, *MULTIWORD_PLACES]))
        taken = {w.lower() for w in topics + places}
        pseudo = pseudo_words(rng, N_PSEUDO_WORDS, taken)
        single_places = [p for p in places if " " not in p]
        functions = list(dict.fromkeys(FUNCTION_WORDS))
        # Title words (pre-capitalised): 80 % topic words, 12 % pseudo-words, 8 % places.
        title_words = Sampler(
            [capitalise(w) for w in topics + pseudo + single_places],
            zipf_weights(len(topics), 0.80)
            + uniform_weights(len(pseudo), 0.12)
            + uniform_weights(len(single_places), 0.08),
        )
        text_words = Sampler(
            functions + topics + pseudo + single_places,
            zipf_weights(len(functions), 0.42)
            + zipf_weights(len(topics), 0.44)
            + uniform_weights(len(pseudo), 0.06)
            + uniform_weights(len(single_places), 0.08),
        )
        # The full name of the planted SCO article's subject stays out of generated
        # titles (its acronym "SCO" and the words "Shanghai" and "Cooperation" stay
        # in): otherwise about a thousand titles would begin like the planted one and
        # "planted article at rank 1" would be a coin toss, not a test of ranking.
        entities = places + [o for o in ORGANISATIONS if o not in RESERVED_NAMES]
        return cls(title_words, text_words, places, entities)

    def size(self) -> int:
        """Number of distinct words and names (multi-word names count once)."""
        words = {w.lower() for w in self.title_words.words + self.text_words.words}
        return len(words | {e.lower() for e in self.entities})


def ordinal(n: int) -> str:
    """English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st, 33rd."""
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def capitalise(word: str) -> str:
    """Upper-case the first letter, keep the rest (``post-Soviet`` -> ``Post-Soviet``)."""
    return word[:1].upper() + word[1:]


class RecordFactory:
    """Produce records from one ``random.Random``; the only source of randomness."""

    def __init__(self, seed: int, vocab: Vocabulary) -> None:
        self.rng = random.Random(seed)
        self.vocab = vocab

    def randint(self, lo: int, hi: int) -> int:
        """Integer in ``[lo, hi]``; cheaper than ``Random.randint`` (one C call)."""
        return lo + int(self.rng.random() * (hi - lo + 1))

    def pick(self, items: Sequence[str]) -> str:
        """Uniform choice; cheaper than ``Random.choice``."""
        return items[int(self.rng.random() * len(items))]

    def title(self) -> str:
        """A headline of 4-14 words built from a random template."""
        rng = self.rng
        length = self.randint(4, 14)
        for _ in range(4):
            fixed = self._fill_fixed(self.pick(TEMPLATES))
            phrase_len = length - len(fixed.split()) + 1  # "{P}" counts as one word.
            if phrase_len >= 1:
                phrase = " ".join(self.vocab.title_words.sample(rng, phrase_len))
                return fixed.replace("{P}", phrase, 1)
        return " ".join(self.vocab.title_words.sample(rng, length))

    def _fill_fixed(self, template: str) -> str:
        """Fill the non-phrase slots of a title template."""
        text = template
        while "{L}" in text:
            text = text.replace("{L}", self.pick(self.vocab.places), 1)
        if "{E}" in text:
            text = text.replace("{E}", self.pick(self.vocab.entities), 1)
        if "{N}" in text:
            text = text.replace("{N}", ordinal(self.randint(1, 35)), 1)
        if "{Y}" in text:
            text = text.replace("{Y}", str(self.randint(1991, 2026)), 1)
        return text

    def excerpt(self) -> str:
        """About 40 words of prose-like text; half the time truncated with `` […]``."""
        rng = self.rng
        words = self.vocab.text_words.sample(rng, self.randint(32, 48))
        sentences = []
        start = 0
        while start < len(words):
            end = start + self.randint(8, 16)
            sentences.append(capitalise(" ".join(words[start:end])))
            start = end
        text = ". ".join(sentences)
        return text + (" […]" if rng.random() < 0.5 else ".")

    def date(self) -> str | None:
        """ISO date; sometimes month-only, year-only or missing (``None``)."""
        rng = self.rng
        day = date.fromordinal(self.randint(FIRST_DAY, LAST_DAY)).isoformat()
        r = rng.random()
        if r < 0.001:
            return None
        if r < 0.003:
            return day[:4]
        if r < 0.008:
            return day[:7]
        return day

    def category(self) -> str:
        """A category, weighted towards International Relations."""
        return CATEGORIES[bisect.bisect(CATEGORY_CUM, self.rng.random() * CATEGORY_CUM[-1])]

    def record(self, index: int) -> dict[str, str]:
        """One generated article; ``index`` is its 0-based position in the file."""
        title = self.title()
        record = {"title": title}
        day = self.date()
        if day is not None:
            record["date"] = day
        record["excerpt"] = self.excerpt()
        record["category"] = self.category()
        record["url"] = f"https://example.org/articles/{index + 1}-{slugify(title)}"
        return record


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 80) -> str:
    """ASCII-fold and hyphenate a title for use in a URL."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")[:max_len].rstrip("-")


def planted_record(k: int) -> dict[str, str]:
    """The JSON object for planted article number ``k`` (1-based)."""
    planted = PLANTED[k - 1]
    return {
        "title": planted.title,
        "date": planted.date,
        "excerpt": planted.excerpt,
        "category": "International Relations",
        "url": planted.url(k),
    }


def generate(n: int, seed: int) -> Iterator[dict[str, str]]:
    """Yield ``n`` records; planted records replace generated ones at their positions.

    A generated record is still drawn at planted positions so that the surrounding
    records do not depend on which articles are planted.
    """
    factory = RecordFactory(seed, Vocabulary.build())
    positions = planted_positions(n)
    for index in range(n):
        record = factory.record(index)
        k = positions.get(index)
        yield planted_record(k) if k is not None else record


def write(n: int, seed: int, out: TextIO, titles: TextIO | None) -> None:
    """Stream ``n`` records as JSONL to ``out`` (and titles to ``titles``) in batches."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    records = generate(n, seed)
    while batch := list(itertools.islice(records, BATCH)):
        out.write("".join(dumps(r) + "\n" for r in batch))
        if titles is not None:
            titles.write("".join(r["title"] + "\n" for r in batch))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of records")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSONL file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    parser.add_argument("--titles", type=Path, help="also write the titles, one per line")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point: write the archive and print a one-line summary on stderr."""
    args = parse_args(argv)
    start = time.perf_counter()
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        if args.titles is None:
            write(args.n, args.seed, out, None)
        else:
            with open(args.titles, "w", encoding="utf-8", newline="\n") as titles:
                write(args.n, args.seed, out, titles)
    planted = len(planted_positions(args.n))
    elapsed = time.perf_counter() - start
    print(
        f"gen.py: wrote {args.n} records ({planted} planted, seed {args.seed}) "
        f"to {args.output} in {elapsed:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
