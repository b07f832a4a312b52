extension NumberLanguage {
    /// German: compounds ("einundzwanzig", "neunzehnhundertfünfundachtzig") are split against these
    /// tables by `SpokenWordReader`, so the table lists only the parts.
    public static let german = NumberLanguage(
        code: "de",
        units: [
            "null": 0, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
            "sieben": 7, "acht": 8, "neun": 9,
        ],
        compoundUnits: ["ein": 1, "eine": 1, "sech": 6, "sieb": 7],
        teens: [
            "zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
            "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19,
        ],
        tens: [
            "zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50, "fuenfzig": 50,
            "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90,
        ],
        hundred: ["hundert"],
        thousand: ["tausend"],
        unitTensJoiner: ["und"],
        repeaters: ["doppel": 2, "doppelt": 2, "doppelte": 2, "dreifach": 3],
        fillers: [
            "äh", "ähm", "öh", "hm", "mhm", "ja", "genau", "also", "moment", "entschuldigung", "sorry", "nein",
            "quatsch",
        ],
        months: [
            "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "april": 4, "mai": 5, "juni": 6,
            "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
        ],
        ordinalSuffixes: ["sten", "ster", "stes", "ste", "ten", "ter", "tes", "te"],
        ordinalStems: ["ers": 1, "drit": 3, "sieb": 7, "ach": 8],
        plus: ["plus"],
        at: ["at", "ät", "klammeraffe"],
        dot: ["punkt"],
        dash: ["strich", "bindestrich", "minus", "schrägstrich"],
        underscore: ["unterstrich"],
        quantityWords: [
            "euro", "cent", "prozent", "uhr", "minuten", "stunden", "tage", "wochen", "monate", "jahre", "stück",
            "mal", "kilo", "gramm", "liter", "meter", "personen", "nächte",
        ],
        emailStopWords: [
            "meine", "mein", "ist", "lautet", "die", "adresse", "e-mail-adresse", "mailadresse", "an", "und",
        ],
        prompts: [
            .card: [["*karte*"], ["kartennummer"], ["visa"], ["mastercard"]],
            .securityCode: [
                ["prüfziffer"], ["prüfnummer"], ["*prüfnummer"], ["sicherheitscode"], ["kartenprüfnummer"],
                ["drei", "ziffern"], ["rückseite"],
            ],
            .expiry: [["gültig", "bis"], ["ablaufdatum"], ["läuft", "ab"], ["gültigkeit"]],
            .account: [["kontonummer"], ["konto"], ["bankverbindung"], ["bankleitzahl"], ["blz"]],
            .phone: [["telefon*"], ["handy*"], ["mobil*"], ["rufnummer"], ["zurückrufen"], ["erreichbar"]],
            .nationalID: [
                ["steuer-id"], ["steuerid"], ["steuer", "id"], ["steueridentifikationsnummer"],
                ["identifikationsnummer"],
                ["ausweisnummer"], ["personalausweis*"], ["sozialversicherungsnummer"],
            ],
            .dateOfBirth: [["geburtsdatum"], ["geboren"], ["geburtstag"]],
            .harmless: [
                ["bestellnummer"], ["bestellung"], ["auftragsnummer"], ["rechnungsnummer"], ["rechnung"],
                ["postleitzahl"], ["plz"], ["hausnummer"], ["kundennummer"], ["betrag"], ["preis"], ["kostet"],
                ["zimmer"], ["menge"],
            ],
        ]
    )
}
