/// Check-digit schemes, used to label spans (never to decide whether to redact).
public enum CheckDigits {
    /// The Luhn (mod 10) check of payment card numbers, ISO/IEC 7812-1.
    public static func luhn(_ digits: some StringProtocol) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        guard values.count == digits.count, values.count > 1 else { return false }
        var sum = 0
        for (offset, value) in values.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = value * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += value
            }
        }
        return sum % 10 == 0
    }

    /// The IBAN check, ISO 13616 / ISO 7064 MOD 97-10: country and check digits moved to the end,
    /// letters as 10–35, the number mod 97 must be 1.
    public static func ibanMod97(_ iban: some StringProtocol) -> Bool {
        let characters = Array(iban.uppercased())
        guard characters.count >= 5, characters.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else {
            return false
        }
        var remainder = 0
        for character in characters[4...] + characters[..<4] {
            if let digit = character.wholeNumberValue {
                remainder = (remainder * 10 + digit) % 97
            } else if let ascii = character.asciiValue {
                remainder = (remainder * 100 + Int(ascii - 55)) % 97
            }
        }
        return remainder == 1
    }

    /// The Dutch citizen service number (BSN) 11-proof: 9 digits, weights 9…2 and −1, sum divisible
    /// by 11 (8-digit numbers are read with a leading zero).
    public static func bsnElevenProof(_ digits: some StringProtocol) -> Bool {
        var values = digits.compactMap(\.wholeNumberValue)
        guard values.count == digits.count, values.count == 8 || values.count == 9 else { return false }
        if values.count == 8 { values.insert(0, at: 0) }
        let weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
        let sum = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return sum != 0 && sum % 11 == 0
    }

    /// The German tax identification number (Steuer-ID): 11 digits, no leading zero, the check digit
    /// by ISO 7064 MOD 11,10 over the first ten.
    public static func steuerID(_ digits: some StringProtocol) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        guard values.count == digits.count, values.count == 11, values[0] != 0 else { return false }
        var product = 10
        for value in values[..<10] {
            var sum = (value + product) % 10
            if sum == 0 { sum = 10 }
            product = (sum * 2) % 11
        }
        var check = 11 - product
        if check == 10 { check = 0 }
        return check == values[10]
    }
}
