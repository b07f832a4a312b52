/// The words one language uses to speak numbers, letters and the phrases around them, as plain
/// tables so adding a language (French, Dutch) is adding a table, not code.
///
/// Every entry is lower case. Phrases are lists of words; a word written `*x` or `x*` matches any
/// word ending or starting with `x`, and `*x*` any word containing it, which is how German
/// compounds ("Kreditkartennummer") are met without a dictionary.
public struct NumberLanguage: Sendable, Hashable {
    /// BCP 47 code, for documentation and tests.
    public var code: String
    /// Single digits 0–9 as spoken alone ("oh", "nought", "zwo").
    public var units: [String: Int]
    /// Digits that only count inside a compound or before "hundred" ("ein" in "einundzwanzig"),
    /// because alone they are an article.
    public var compoundUnits: [String: Int]
    /// 10–19.
    public var teens: [String: Int]
    /// 20, 30, … 90.
    public var tens: [String: Int]
    public var hundred: Set<String>
    public var thousand: Set<String>
    /// The word between unit and tens in languages that say the unit first ("und": einundzwanzig).
    public var unitTensJoiner: Set<String>
    /// The word between hundreds and the rest ("one hundred and five").
    public var conjunction: Set<String>
    /// "double", "triple": repeat the next group.
    public var repeaters: [String: Int]
    /// Hesitations and self-corrections that never break a number ("uh", "sorry", "äh").
    public var fillers: Set<String>
    /// Words an engine writes for a digit it heard ("for" for four, "to" for two). They count as
    /// that digit only between two digits of one run, so "two for one" stays harmless talk only
    /// when no longer number surrounds it.
    public var homophones: [String: Int]
    /// Spelling alphabets and letter names beyond single letters ("alpha", "november").
    public var letters: [String: Character]
    public var months: [String: Int]
    /// Ordinals spelled out whole ("first", "fifth"); German ordinals are derived by suffix.
    public var ordinals: [String: Int]
    /// Ordinal suffixes stripped to find a number stem ("ten" in "fünften"), longest first.
    public var ordinalSuffixes: [String]
    /// Stems that change in the ordinal ("drit" → 3).
    public var ordinalStems: [String: Int]
    /// Spoken symbols in phone numbers and addresses.
    public var plus: Set<String>
    public var at: Set<String>
    public var dot: Set<String>
    public var dash: Set<String>
    public var underscore: Set<String>
    /// Words after a number that make it an amount, a quantity or a time ("euros", "Uhr").
    public var quantityWords: Set<String>
    /// Words that open a spoken e-mail address but are never part of it ("my", "is", "address").
    public var emailStopWords: Set<String>
    public var prompts: [RedactionPrompt: [[String]]]

    public init(
        code: String,
        units: [String: Int],
        compoundUnits: [String: Int] = [:],
        teens: [String: Int],
        tens: [String: Int],
        hundred: Set<String>,
        thousand: Set<String>,
        unitTensJoiner: Set<String> = [],
        conjunction: Set<String> = [],
        repeaters: [String: Int],
        fillers: Set<String>,
        homophones: [String: Int] = [:],
        letters: [String: Character] = [:],
        months: [String: Int],
        ordinals: [String: Int] = [:],
        ordinalSuffixes: [String] = [],
        ordinalStems: [String: Int] = [:],
        plus: Set<String>,
        at: Set<String>,
        dot: Set<String>,
        dash: Set<String>,
        underscore: Set<String>,
        quantityWords: Set<String>,
        emailStopWords: Set<String>,
        prompts: [RedactionPrompt: [[String]]]
    ) {
        self.code = code
        self.units = units
        self.compoundUnits = compoundUnits
        self.teens = teens
        self.tens = tens
        self.hundred = hundred
        self.thousand = thousand
        self.unitTensJoiner = unitTensJoiner
        self.conjunction = conjunction
        self.repeaters = repeaters
        self.fillers = fillers
        self.homophones = homophones
        self.letters = letters
        self.months = months
        self.ordinals = ordinals
        self.ordinalSuffixes = ordinalSuffixes
        self.ordinalStems = ordinalStems
        self.plus = plus
        self.at = at
        self.dot = dot
        self.dash = dash
        self.underscore = underscore
        self.quantityWords = quantityWords
        self.emailStopWords = emailStopWords
        self.prompts = prompts
    }
}
