"""Shared constants for the benchmark scripts (``gen.py`` and ``run.py``)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEED = 42
PLANTED_URL_PREFIX = "https://example.org/planted/"


@dataclass(frozen=True)
class Planted:
    """An article with a known title planted at a fixed position in generated archives."""

    title: str
    date: str
    excerpt: str
    # Position in the file as a fraction of N (index = N * num // den).
    num: int
    den: int

    def url(self, k: int) -> str:
        """The distinctive URL a checker uses to identify planted article number ``k``."""
        return f"{PLANTED_URL_PREFIX}{k}"


PLANTED: tuple[Planted, ...] = (
    Planted(
        "Shanghai Cooperation Organization: History and Role in Regional Security",
        "2022-02-07",
        "Shanghai Cooperation Organization (SCO) is an international organization that was "
        "established in 1996 with the members of China, Kazakhstan, Kyrgyzstan, Russia and "
        "Tajikistan. From its first meeting of the leaders of five countries in 1996 during "
        "20 years it has become an international organization. […]",
        1,
        7,
    ),
    Planted(
        "2022 SCO Summit in Samarkand: Key Takeaways",
        "2022-09-30",
        "On September 15–16, 2022, the attention of politicians and the media was riveted at "
        "the annual summit of the Shanghai Cooperation Organization (SCO) in Samarkand. During "
        "the times when serious political and economic transformations are happening across "
        "the Eurasian continent […]",
        1,
        3,
    ),
    Planted(
        "Iranian Nuclear Deal Crisis",
        "2022-01-28",
        "The “Joint Comprehensive Plan of Action” (JCPOA) agreement signed in 2015 during the "
        "period of Barack Obama was repeatedly criticized by Donald Trump, who was elected as "
        "the President of the United States of America (USA) in 2017. […]",
        1,
        2,
    ),
    Planted(
        "30th Year of Diplomatic Relations between Türkiye and Turkic Republics",
        "2022-05-03",
        "Türkiye was the first country to establish diplomatic relations with the Turkic "
        "Republics and to open an embassy in 1991. Culture, language, religion and social "
        "affinity and ties from the past between Türkiye and the Turkic Republics have been "
        "important factors […]",
        2,
        3,
    ),
    Planted(
        "The Sixth CICA Summit: Asian Vision of the Global Development",
        "2022-11-01",
        "The political situation in the Eurasian countries is one of the frequently discussed "
        "issues given the Russian invasion of Ukraine, which led to unprecedented sanctions "
        "from the Western countries on Russia. […]",
        6,
        7,
    ),
    Planted(
        "China’s and India’a Summits with Central Asia: Latest Developments",
        "2022-03-14",
        "On January 25, 2022, China hosted a virtual summit to commemorate the 30th "
        "anniversary of diplomatic ties with the Central Asian states. Two days later, on "
        "January 27th, India also gathered all central Asian leaders. […]",
        1,
        5,
    ),
    Planted(
        "Turkmenistan-Russia Energy Cooperation in the Context of Natural Gas Trading",
        "2022-02-01",
        "In 2003, during the visit of the President of Turkmenistan Saparmurat Niyazov to "
        "Moscow, two key agreements were signed, focused on cooperation in the energy sector "
        "and interaction in the field of security. […]",
        4,
        5,
    ),
    Planted(
        "Economic Cooperation between Central Asia and the European Union",
        "2021-12-27",
        "Countries of Central Asia consider cooperation with the European Union (EU-27) as one "
        "of the most important strategic directions. They intend to intensify trade with the "
        "EU countries and attract investments. […]",
        9,
        10,
    ),
)


def planted_positions(n: int) -> dict[int, int]:
    """Map record index -> 1-based planted number for an archive of ``n`` records.

    Positions are ``n * num // den``; a collision (tiny ``n``) moves to the next free
    index, and positions ``>= n`` are dropped, so small archives hold fewer planted items.
    """
    positions: dict[int, int] = {}
    for k, planted in enumerate(PLANTED, start=1):
        index = n * planted.num // planted.den
        while index in positions:
            index += 1
        if index < n:
            positions[index] = k
    return positions
