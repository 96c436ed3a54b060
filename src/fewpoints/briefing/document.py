"""The briefing's own text: cover title, context with its sources, glossary, methods, references.

One source for the HTML page and the PDF laid out from it. Each paragraph of
:data:`COVER` and :data:`METHODS` carries ``[key]`` markers that become
numbered citations of :data:`CONTEXT_SOURCES` and :data:`RESEARCH_SOURCES`.
"""

COVER_TITLE = "Few points: how a handful of places and times singles out a phone in “anonymized” location data"

#: Sources of the cover's context, each checked against its primary source: (key, text, address).
CONTEXT_SOURCES = (
    (
        "wsj2020",
        "Tau, B., Hackman, M. (2020, February 7). Federal agencies use cellphone location data "
        "for immigration enforcement. The Wall Street Journal (reports the purchases and "
        "quotes a CBP spokesman).",
        None,
    ),
    (
        "oig2023",
        "US Department of Homeland Security, Office of Inspector General (2023, September 28). "
        "CBP, ICE, and Secret Service did not adhere to privacy policies or develop sufficient "
        "policies before procuring and using commercial telemetry data. Report OIG-23-61.",
        "https://www.oversight.gov/reports/audit/cbp-ice-and-secret-service-did-not-adhere-"
        "privacy-policies-or-develop-sufficient",
    ),
    (
        "carpenter",
        "Carpenter v. United States, 585 U.S. 296 (2018), No. 16-402, decided June 22, 2018.",
        None,
    ),
    (
        "ftc2024",
        "US Federal Trade Commission (2024, December 3). Gravy Analytics, Inc. and Venntel, "
        "Inc.: complaint and proposed consent order; Analysis of Proposed Consent Order to Aid "
        "Public Comment, 89 Fed. Reg. 96986 (December 6, 2024).",
        None,
    ),
    (
        "hr4639",
        "Fourth Amendment Is Not For Sale Act, H.R. 4639, 118th Congress; passed by the House "
        "of Representatives on April 17, 2024, 219-199 (Roll no. 136); Congressional Record "
        "170(67):H2459-H2468.",
        "http://www.gpo.gov/fdsys/pkg/CREC-2024-04-17/html/CREC-2024-04-17-pt1-PgH2459-5.htm",
    ),
)

#: Published research the figures compare with: (key, text).
RESEARCH_SOURCES = (
    (
        "demontjoye2013",
        "de Montjoye, Y.-A., Hidalgo, C. A., Verleysen, M., Blondel, V. D. (2013). Unique in "
        "the Crowd: the privacy bounds of human mobility. Scientific Reports 3:1376.",
    ),
    (
        "farzanehfar2021",
        "Farzanehfar, A., Houssiau, F., de Montjoye, Y.-A. (2021). The risk of "
        "re-identification remains high even in country-scale location datasets. "
        "Patterns 2(3):100204.",
    ),
    (
        "golle2009",
        "Golle, P., Partridge, K. (2009). On the anonymity of home/work location pairs. "
        "Pervasive Computing, LNCS 5538.",
    ),
    (
        "zang2011",
        "Zang, H., Bolot, J. (2011). Anonymization of location data does not work: a "
        "large-scale measurement study. MobiCom 2011.",
    ),
    (
        "kondor2018",
        "Kondor, D., Hashemian, B., de Montjoye, Y.-A., Ratti, C. (2018). Towards matching "
        "user mobility traces in large-scale datasets. IEEE Transactions on Big Data "
        "(arXiv:1709.05772).",
    ),
    (
        "culnane2019",
        "Culnane, C., Rubinstein, B. I. P., Teague, V. (2019). Stop the open data bus, we want "
        "to get off. arXiv:1908.03268.",
    ),
    (
        "andres2013",
        "Andrés, M. E., Bordenabe, N. E., Chatzikokolakis, K., Palamidessi, C. (2013). "
        "Geo-indistinguishability: differential privacy for location-based systems. CCS 2013.",
    ),
    (
        "dwork2006",
        "Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating noise to "
        "sensitivity in private data analysis. Theory of Cryptography Conference, LNCS 3876.",
    ),
    (
        "song2010",
        "Song, C., Koren, T., Wang, P., Barabási, A.-L. (2010). Modelling the scaling "
        "properties of human mobility. Nature Physics 6:818-823.",
    ),
)

#: Every reference in the order the briefing lists them (plain text).
REFERENCES = tuple(t for _, t, _ in CONTEXT_SOURCES) + tuple(t for _, t in RESEARCH_SOURCES)

#: The cover's context: paragraphs with [key] markers that become numbered citations.
COVER = (
    "Data brokers buy the locations that apps on phones report and sell the records "
    "keyed by an advertising ID instead of a name. Such data are often described as "
    "“anonymized”.",
    "US agencies have bought access to such data. The Wall Street Journal reported in "
    "February 2020 that the Department of Homeland Security (DHS) and two of its "
    "components, Immigration and Customs Enforcement (ICE) and Customs and Border "
    "Protection (CBP), had bought licences from the broker Venntel since 2017; a CBP "
    "spokesman told the paper that the information “doesn't include the individual user's "
    "identity” [wsj2020]. In September 2023 the DHS Office of Inspector General reported "
    "that CBP, ICE and the Secret Service did not adhere to DHS privacy policies and the "
    "E-Government Act of 2002, which require an approved privacy impact assessment before "
    "such data are procured, and had not developed sufficient policies for using them "
    "[oig2023].",
    "In Carpenter v. United States (2018) the Supreme Court held that the government's "
    "acquisition of a person's historical cell-site location records from wireless carriers "
    "is a search under the Fourth Amendment, for which it must generally obtain a warrant; "
    "the Court called its decision “a narrow one” [carpenter]. Whether the same reasoning "
    "covers location data that an agency buys from a broker has not been decided by the "
    "Supreme Court. In December 2024 the Federal Trade Commission announced a proposed "
    "order against Gravy Analytics and its subsidiary Venntel, which it alleged had sold "
    "sensitive location data without verifying consumers' consent; the order bars them "
    "from selling sensitive location data except in limited circumstances [ftc2024]. The "
    "proposed Fourth Amendment Is Not For Sale Act, which would bar law enforcement and "
    "intelligence agencies from buying such records without a court order, passed the "
    "House of Representatives in April 2024 and was not taken up by the Senate in that "
    "Congress [hr4639].",
    "The question this briefing answers, on a simulated city: can a location record "
    "without a name still point to one person? Each figure tests one part of that question "
    "with an attack a buyer could run on the data it bought.",
)

GLOSSARY = (
    (
        "Point",
        "One place and one time slot in a phone's record, such as “the antenna on Elm "
        "Street, Tuesday 8 to 9 a.m.”.",
    ),
    (
        "Unique (singled out)",
        "No other phone's record contains all the points known about a phone: those few "
        "points pick out one phone. The share of phones that are unique is called unicity.",
    ),
    (
        "Anonymity set",
        "The phones whose records contain all the known points. A set of one phone means "
        "that phone is singled out; a large set hides it among others.",
    ),
    (
        "Pseudonym",
        "An identifier that stands in for a name, such as a phone's advertising ID. It links "
        "all of one phone's records together without saying whose phone it is.",
    ),
    (
        "Differential privacy",
        "A formal guarantee for published statistics: what is released changes very little "
        "whether or not any one person's data are included, whatever else a reader knows.",
    ),
    (
        "Epsilon (ε)",
        "The privacy budget of a differentially private release: smaller means more noise "
        "and a stronger guarantee. Here it is counted per phone over the whole four weeks.",
    ),
)

METHODS = (
    "Data. fewpoints simulates a city: homes, workplaces, shops, clinics, places of worship "
    "and legal aid; people with households, commutes and leisure habits that follow "
    "published patterns of human mobility (exploration and preferential return, "
    "heavy-tailed travel) [song2010]; and the records their phones leave (call records at "
    "the serving antenna, and app location pings). No real person is in any table.",
    "Unicity. For a sample of phones, p points (a place and a time slot) are drawn at random "
    "from each phone's own record; a phone is singled out when no other phone's record "
    "contains all p. The share singled out is reported with a 95% Wilson interval over the "
    "sampled phones. This is the test of de Montjoye et al. [demontjoye2013]. Every "
    "figure runs on the whole simulated city, and every 4-point test of the raw call "
    "records draws the same phones and points, so the raw data's share is one number "
    "throughout.",
    "Dataset size. Figure 3 draws, beside random subsets of the city measured in this run, "
    "measurements shipped with fewpoints (synthetic_data/population_scale.csv): the same test "
    "on a synthetic country of towns far larger than the city, in random subsets of it and "
    "grown town by town, made with the package's Dask engine by benchmarks/bench_population.py "
    "(its size and the command that made it are printed under the figure). Beyond the "
    "largest measurement the figure shows only models: a convex curve fitted to the "
    "measurements, the straight-line lower bound, and the published model of Farzanehfar et "
    "al. built from the region's three marginal distributions [farzanehfar2021].",
    "Limits. The numbers describe one synthetic city of the chosen size and depend on how "
    "often phones report and how people move in the simulation; a real dataset can be more "
    "or less identifying. Extrapolations to larger populations are models, not "
    "measurements. The attacks here are simple; a buyer with more auxiliary data does at "
    "least as well.",
)
