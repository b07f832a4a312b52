extension NumberLanguage {
    /// Dutch: the unit comes first as in German, joined by "en" ("eenentwintig") or "ën" after a
    /// vowel ("tweeëntwintig"); "een" alone is the article, so it counts only inside compounds.
    public static let dutch = NumberLanguage(
        code: "nl",
        units: [
            "nul": 0, "één": 1, "eén": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
            "acht": 8, "negen": 9,
        ],
        compoundUnits: ["een": 1],
        teens: [
            "tien": 10, "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16,
            "zeventien": 17, "achttien": 18, "negentien": 19,
        ],
        tens: [
            "twintig": 20, "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "zeventig": 70, "tachtig": 80,
            "negentig": 90,
        ],
        hundred: ["honderd"],
        thousand: ["duizend"],
        unitTensJoiner: ["en", "ën"],
        repeaters: ["dubbel": 2, "dubbele": 2],
        fillers: ["eh", "ehm", "uhm", "euh", "nee", "sorry", "oké", "oke", "even", "kijken", "zeg", "maar"],
        months: [
            "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
            "september": 9, "oktober": 10, "november": 11, "december": 12,
        ],
        ordinalSuffixes: ["ste", "de"],
        ordinalStems: ["eer": 1, "der": 3, "ach": 8],
        plus: ["plus"],
        at: ["apenstaartje", "at"],
        dot: ["punt"],
        dash: ["streepje", "min", "slash"],
        underscore: ["underscore", "liggend"],
        quantityWords: ["euro", "cent", "procent", "uur", "minuten", "dagen", "weken", "stuks", "keer", "personen"],
        emailStopWords: ["mijn", "is", "het", "e-mailadres", "mailadres", "adres", "naar", "en"],
        prompts: [
            .card: [["kaartnummer"], ["creditcard*"], ["*pas"], ["pasnummer"]],
            .securityCode: [["beveiligingscode"], ["controlecode"], ["drie", "cijfers"], ["achterkant"]],
            .expiry: [["vervaldatum"], ["geldig", "tot"], ["verloopt"]],
            .account: [["rekeningnummer"], ["rekening"], ["iban"]],
            .phone: [["telefoon*"], ["mobiel*"], ["nummer", "bellen"], ["terugbellen"], ["06-nummer"]],
            .nationalID: [["bsn"], ["burgerservicenummer"], ["sofinummer"], ["paspoortnummer"]],
            .dateOfBirth: [["geboortedatum"], ["geboren"], ["verjaardag"]],
            .harmless: [
                ["bestelnummer"], ["bestelling"], ["ordernummer"], ["factuurnummer"], ["factuur"], ["postcode"],
                ["huisnummer"], ["klantnummer"], ["bedrag"], ["prijs"], ["kost"], ["kamer"],
            ],
        ]
    )
}
