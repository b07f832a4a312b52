extension NumberLanguage {
    /// English, British and American usage ("oh", "nought", "double", "zip code").
    public static let english = NumberLanguage(
        code: "en",
        units: [
            "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
            "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "niner": 9,
        ],
        teens: [
            "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
            "seventeen": 17, "eighteen": 18, "nineteen": 19,
        ],
        tens: [
            "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90,
        ],
        hundred: ["hundred"],
        thousand: ["thousand"],
        conjunction: ["and"],
        repeaters: ["double": 2, "triple": 3, "treble": 3],
        fillers: [
            "uh", "uhm", "um", "umm", "er", "erm", "ah", "eh", "hm", "hmm", "mm", "mmm", "mhm", "mm-hmm", "uh-huh",
            "sorry", "okay", "ok", "yeah", "yes", "right", "so", "like", "wait", "no", "mean", "actually", "again",
        ],
        homophones: ["for": 4, "fore": 4, "to": 2, "too": 2, "won": 1, "ate": 8],
        letters: [
            "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E", "foxtrot": "F",
            "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J", "kilo": "K", "lima": "L",
            "mike": "M", "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R", "sierra": "S",
            "tango": "T", "uniform": "U", "victor": "V", "whiskey": "W", "whisky": "W", "x-ray": "X", "xray": "X",
            "yankee": "Y", "zulu": "Z",
        ],
        months: [
            "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
            "september": 9, "october": 10, "november": 11, "december": 12,
        ],
        ordinals: [
            "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
            "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
            "twentieth": 20, "thirtieth": 30,
        ],
        plus: ["plus"],
        at: ["at", "@"],
        dot: ["dot", "period", "point"],
        dash: ["dash", "hyphen", "minus", "slash"],
        underscore: ["underscore"],
        quantityWords: [
            "euro", "euros", "eur", "dollar", "dollars", "pound", "pounds", "quid", "cent", "cents", "pence", "p",
            "percent", "per", "o'clock", "am", "pm", "a.m.", "p.m.", "minutes", "minute", "hours", "hour", "days",
            "day", "weeks", "months", "years", "items", "item", "pieces", "boxes", "units", "times", "kilos",
            "kg", "grams", "liters", "litres", "meters", "metres", "km", "miles", "people", "persons", "nights",
        ],
        emailStopWords: [
            "my", "is", "it's", "its", "it", "email", "e-mail", "mail", "address", "the", "that's", "and", "to",
            "me", "send", "write", "at", "please", "yes", "so", "you", "can", "reach",
        ],
        prompts: [
            .card: [
                ["card"], ["card", "number"], ["credit", "card"], ["debit", "card"], ["visa"], ["mastercard"],
                ["amex"], ["maestro"], ["long", "number"], ["pan"],
            ],
            .securityCode: [
                ["security", "code"], ["cvv"], ["cvc"], ["cv2"], ["cvv2"], ["csc"], ["card", "verification"],
                ["digits", "on", "the", "back"], ["three", "digits"], ["verification", "code"],
            ],
            .expiry: [
                ["expiry"], ["expiry", "date"], ["expiration"], ["expires"], ["expire"], ["valid", "until"],
                ["valid", "thru"], ["valid", "through"], ["end", "date"],
            ],
            .account: [
                ["account", "number"], ["account"], ["sort", "code"], ["routing", "number"], ["iban"],
                ["bank", "details"],
            ],
            .phone: [
                ["phone"], ["phone", "number"], ["mobile"], ["cell"], ["telephone"], ["call", "me"], ["call", "back"],
                ["reach", "me"], ["whatsapp"], ["landline"], ["contact", "number"], ["my", "number"], ["text", "me"],
            ],
            .nationalID: [
                ["bsn"], ["citizen", "service", "number"], ["social", "security"], ["national", "insurance"],
                ["id", "number"], ["tax", "id"], ["tax", "number"], ["passport", "number"], ["identity", "number"],
                ["personal", "number"],
            ],
            .dateOfBirth: [
                ["date", "of", "birth"], ["birth", "date"], ["birthdate"], ["born"], ["birthday"], ["dob"], ["d.o.b."],
            ],
            .harmless: [
                ["order"], ["order", "number"], ["reference"], ["booking"], ["invoice"], ["ticket"], ["tracking"],
                ["postcode"], ["post", "code"], ["zip"], ["zip", "code"], ["house", "number"], ["room"], ["flight"],
                ["table"], ["customer", "number"], ["case", "number"], ["costs"], ["cost"], ["price"], ["total"],
                ["amount"], ["quantity"],
            ],
        ]
    )
}
