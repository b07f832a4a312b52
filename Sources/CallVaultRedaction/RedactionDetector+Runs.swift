/// Number runs: IBANs first (they start with letters), then every stretch of digits by length and
/// by the prompt said before it.
extension RedactionDetector {
    /// The spans in one run. `cardEnds` are the end times of card numbers found earlier in the call.
    func classify(_ run: SpokenNumberRun, in context: DetectionContext, cardEnds: [Int]) -> [RedactionSpan] {
        let symbols = run.symbols
        let prompt = context.nearestPrompt(before: run.words.lowerBound)?.prompt
        var spans: [RedactionSpan] = []
        var consumed = Array(repeating: false, count: symbols.count)

        for range in ibanRanges(symbols, prompt: prompt) {
            let text = String(symbols[range].map(\.character))
            let full = IBANFormat.lengths[String(text.prefix(2))] == text.count
            let check: RedactionCheck = full && CheckDigits.ibanMod97(text) ? .valid : .invalid
            spans.append(span(run, range, .iban, check))
            for index in range { consumed[index] = true }
        }

        var start = 0
        while start < symbols.count {
            guard !consumed[start], symbols[start].character.isNumber || symbols[start].character == "+" else {
                start += 1
                continue
            }
            var end = start + (symbols[start].character == "+" ? 1 : 0)
            while end < symbols.count, !consumed[end], symbols[end].character.isNumber { end += 1 }
            if end > start, symbols[end - 1].character.isNumber {
                let digits = String(symbols[start..<end].map(\.character).filter(\.isNumber))
                let plus = symbols[start].character == "+"
                let wordRange = symbols[start].words.lowerBound...symbols[start..<end].map(\.words.upperBound).max()!
                if !plus, let parts = Self.cardWithDetails(digits) {
                    var offset = start
                    for (length, kind) in parts {
                        let check: RedactionCheck = kind == .cardNumber ? .valid : .none
                        spans.append(span(run, offset..<(offset + length), kind, check))
                        offset += length
                    }
                } else if let (kind, check) = kind(
                    digits: digits,
                    plus: plus,
                    prompt: prompt,
                    words: wordRange,
                    track: run.track,
                    startMs: symbols[start].startMs,
                    in: context,
                    cardEnds: cardEnds
                ) {
                    spans.append(span(run, start..<end, kind, check))
                }
            }
            start = max(end, start + 1)
        }
        return spans
    }

    /// Where IBANs lie in a run: two letters, two digits, then as many characters as the country's
    /// IBAN has (or up to 34 when the country is unknown but a bank prompt was said).
    private func ibanRanges(_ symbols: [SpokenSymbol], prompt: RedactionPrompt?) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = 0
        while index + 4 <= symbols.count {
            let c = symbols[index..<(index + 4)].map(\.character)
            guard c[0].isLetter, c[1].isLetter, c[2].isNumber, c[3].isNumber else {
                index += 1
                continue
            }
            let length = IBANFormat.lengths[String(c[0...1])] ?? (prompt == .account ? IBANFormat.maximumLength : 0)
            let end = min(index + length, symbols.count)
            if end - index >= IBANFormat.minimumSpoken {
                ranges.append(index..<end)
                index = end
            } else {
                index += 1
            }
        }
        return ranges
    }

    private func span(_ run: SpokenNumberRun, _ range: Range<Int>, _ kind: RedactionEntityKind, _ check: RedactionCheck)
        -> RedactionSpan
    {
        let part = run.symbols[range]
        return RedactionSpan(
            track: run.track,
            startMs: part.first!.startMs,
            endMs: part.map(\.endMs).max()!,
            kind: kind,
            words: part.first!.words.lowerBound...part.map(\.words.upperBound).max()!,
            check: check
        )
    }

    /// What a stretch of digits is, or nil when it is harmless. The order is the policy: card
    /// length always wins (never gated on Luhn); then what the prompt said; then shapes that need no
    /// prompt (national phone numbers, valid national IDs, short numbers right after a card).
    private func kind(
        digits: String,
        plus: Bool,
        prompt: RedactionPrompt?,
        words: ClosedRange<Int>,
        track: RedactionTrack,
        startMs: Int,
        in context: DetectionContext,
        cardEnds: [Int]
    ) -> (RedactionEntityKind, RedactionCheck)? {
        let n = digits.count
        if plus, n >= 7 { return (.phoneNumber, .none) }
        if n >= 13 {
            let payment = configuration.categories.contains(.payment)
            if digits.hasPrefix("00"), n <= 17, prompt != .card { return (.phoneNumber, .none) }
            if !payment, prompt == .account { return (.accountNumber, .none) }
            if !payment, prompt == .phone, n <= 15 { return (.phoneNumber, .none) }
            return (.cardNumber, n <= 19 && CheckDigits.luhn(digits) ? .valid : .invalid)
        }
        if prompt == .harmless || context.isQuantity(words, track: track) { return nil }
        switch prompt {
        // Up to 8: Whisper writes a code and the expiry said after it as one word ("737-1228").
        case .securityCode where (3...8).contains(n): return (.securityCode, .none)
        case .expiry where (2...6).contains(n): return (.expiryDate, .none)
        case .dateOfBirth where (4...8).contains(n): return (.dateOfBirth, .none)
        case .nationalID where (8...12).contains(n): return (.nationalID, idCheck(digits))
        case .account where (6...12).contains(n): return (.accountNumber, .none)
        case .phone where (6...15).contains(n): return (.phoneNumber, .none)
        case .card where n >= 8: return (.cardNumber, .invalid)
        default: break
        }
        if (10...12).contains(n), digits.hasPrefix("0") { return (.phoneNumber, .none) }
        if n == 9, prompt != .card, CheckDigits.bsnElevenProof(digits) { return (.nationalID, .valid) }
        if n == 11, CheckDigits.steuerID(digits) { return (.nationalID, .valid) }
        let recentCard = cardEnds.contains { $0 <= startMs && startMs - $0 <= configuration.cardContextMs }
        guard prompt == .card || (prompt == nil && recentCard) else { return nil }
        switch n {
        case 3: return (.securityCode, .none)
        case 4: return Self.isExpiry(digits) ? (.expiryDate, .none) : (.securityCode, .none)
        case 6 where Self.isExpiry(digits): return (.expiryDate, .none)
        default: return nil
        }
    }

    /// A card number said in one breath with its expiry or security code ("… 4444, oh nine twenty
    /// eight"): a Luhn-valid 15- or 16-digit prefix followed by 3–4 digits. Luhn only chooses where
    /// to cut: the run is redacted whole either way, and anything longer (a self-correction that
    /// restarts the number) stays one card span.
    static func cardWithDetails(_ digits: String) -> [(Int, RedactionEntityKind)]? {
        for length in [16, 15] where digits.count > length && CheckDigits.luhn(digits.prefix(length)) {
            let rest = String(digits.dropFirst(length))
            switch rest.count {
            case 3: return [(length, .cardNumber), (3, .securityCode)]
            case 4: return [(length, .cardNumber), (4, isExpiry(rest) ? .expiryDate : .securityCode)]
            default: continue
            }
        }
        return nil
    }

    /// A check-digit label for an identity number: BSN (9 digits) or Steuer-ID (11).
    private func idCheck(_ digits: String) -> RedactionCheck {
        switch digits.count {
        case 8, 9: CheckDigits.bsnElevenProof(digits) ? .valid : .invalid
        case 11: CheckDigits.steuerID(digits) ? .valid : .invalid
        default: .none
        }
    }

    /// MMYY or MMYYYY with a month 01–12 (and a 20xx year when four digits).
    static func isExpiry(_ digits: String) -> Bool {
        guard let month = Int(digits.prefix(2)), (1...12).contains(month) else { return false }
        return digits.count == 4 || (digits.count == 6 && digits.dropFirst(2).hasPrefix("20"))
    }
}
