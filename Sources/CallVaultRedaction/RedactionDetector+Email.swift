/// E-mail addresses, written ("jan.devries@gmail.com") or spoken ("jan dot devries at gmail dot
/// com", "jan punkt devries ät web punkt de"), possibly split over several words.
extension RedactionDetector {
    /// Top-level domains a spoken address may end in; a spoken "at" must be followed by "dot" and
    /// one of these, which is what keeps "meet me at the station" out.
    static let topLevelDomains: Set<String> = [
        "com", "net", "org", "info", "biz", "io", "eu", "nl", "de", "be", "fr", "uk", "co", "at", "ch", "es",
        "it", "lu", "dk", "se", "no", "fi", "pl", "pt", "ie", "cz", "email", "online", "me", "edu", "gov",
    ]

    func emails(in context: DetectionContext) -> [RedactionSpan] {
        var spans: [RedactionSpan] = []
        for (track, indices) in context.trackWords {
            let spoken = indices.filter { context.tokens[$0] != [.filler] }
            var position = 0
            while position < spoken.count {
                let index = spoken[position]
                let token = context.tokens[index].first
                if token == .writtenEmail {
                    let complete = context.lowered[index].split(separator: "@").last?.contains(".") == true
                    let last = complete ? nil : domainEnd(spoken, after: position, in: context, dotSeen: false)
                    spans.append(emailSpan(track, spoken[position]...spoken[last ?? position], context))
                    position = (last ?? position) + 1
                    continue
                }
                if token == .at, let last = domainEnd(spoken, after: position, in: context, dotSeen: false) {
                    var first = position
                    while first > 0, position - first < 6, isLocalPart(spoken[first - 1], in: context),
                        context.words[spoken[first]].startMs - context.words[spoken[first - 1]].endMs
                            <= configuration.maxRunGapMs
                    {
                        first -= 1
                    }
                    if first < position {
                        spans.append(emailSpan(track, spoken[first]...spoken[last], context))
                        position = last + 1
                        continue
                    }
                }
                position += 1
            }
        }
        return spans
    }

    /// The position of the domain's last word after the "at" (or a written address) at `position`:
    /// words, "dot"s, ending in a top-level domain after a dot. Nil when no top-level domain comes.
    private func domainEnd(_ spoken: [Int], after position: Int, in context: DetectionContext, dotSeen: Bool) -> Int? {
        var sawDot = dotSeen
        var end: Int?
        var cursor = position + 1
        while cursor < spoken.count, cursor - position <= 8 {
            let index = spoken[cursor]
            let word = context.lowered[index]
            let token = context.tokens[index].first
            // Whisper splits "mail.com" into "mail" and ".com.": the dot glued to the front is the dot.
            let dotted = context.words[index].text.hasPrefix(".")
            if token == .dot || token == .dash || token == .underscore {
                sawDot = sawDot || token == .dot
            } else if sawDot || dotted, Self.topLevelDomains.contains(word) {
                sawDot = true
                end = cursor
            } else if sawDot, cursor + 1 < spoken.count, case .letter(let first)? = context.tokens[index].first,
                case .letter(let second)? = context.tokens[spoken[cursor + 1]].first,
                Self.topLevelDomains.contains(String([first, second]).lowercased())
            {
                // A spelled country domain: "dot n l".
                end = cursor + 1
                cursor += 1
            } else if word.contains("."), let tld = word.split(separator: ".").last,
                Self.topLevelDomains.contains(String(tld))
            {
                end = cursor
                sawDot = true
            } else if end != nil || !(isDomainPart(index, in: context) || isDottedDomain(spoken, cursor + 1, in: context)) {
                // A stop word ends the domain, unless a ".com" glued to its front follows ("mail" ".com.").
                break
            }
            cursor += 1
        }
        return end
    }

    /// Whether the word at `position` is a top-level domain written with its dot in front (".com.").
    private func isDottedDomain(_ spoken: [Int], _ position: Int, in context: DetectionContext) -> Bool {
        guard position < spoken.count else { return false }
        let index = spoken[position]
        return context.words[index].text.hasPrefix(".") && Self.topLevelDomains.contains(context.lowered[index])
    }

    private func isDomainPart(_ index: Int, in context: DetectionContext) -> Bool {
        let word = context.lowered[index]
        return !word.isEmpty && !context.lexicon.emailStopWords.contains(word)
            && !context.lexicon.quantityWords.contains(word)
            && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }

    private func isLocalPart(_ index: Int, in context: DetectionContext) -> Bool {
        let token = context.tokens[index].first
        if token == .dot || token == .dash || token == .underscore { return true }
        let word = context.lowered[index]
        return !word.isEmpty && !context.lexicon.emailStopWords.contains(word)
            && word.allSatisfy { $0.isLetter || $0.isNumber || ".-_+".contains($0) }
    }

    private func emailSpan(_ track: RedactionTrack, _ words: ClosedRange<Int>, _ context: DetectionContext)
        -> RedactionSpan
    {
        RedactionSpan(
            track: track,
            startMs: context.words[words.lowerBound].startMs,
            endMs: context.words[words.upperBound].endMs,
            kind: .email,
            words: words
        )
    }
}
