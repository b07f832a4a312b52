import CallVaultRedaction

/// Compares detected spans with a script's expected entities.
struct FixtureScore {
    var recalled: [RedactionEntityKind: Int] = [:]
    var missed: [RedactionEntityKind: Int] = [:]
    /// Spans overlapping an expected entity of their category, per detected kind.
    var truePositives: [RedactionEntityKind: Int] = [:]
    /// Spans overlapping nothing expected, per detected kind.
    var falsePositives: [RedactionEntityKind: Int] = [:]
    /// Milliseconds of expected payment words no span covers.
    var leakedPaymentMs = 0
    /// Labels of misses and false positives, for failure messages (fixture names, never values).
    var problems: [String] = []

    mutating func add(_ script: CallScript, detector: RedactionDetector) {
        let (words, expected) = script.build()
        let spans = detector.detect(words)
        for entity in expected {
            let covered = entity.words.allSatisfy { index in
                spans.contains {
                    $0.category == entity.kind.category && $0.track == entity.track && $0.words.contains(index)
                }
            }
            if covered {
                recalled[entity.kind, default: 0] += 1
            } else {
                missed[entity.kind, default: 0] += 1
                problems.append("\(script.name): missed \(entity.kind)")
            }
            if entity.kind.category == .payment {
                for index in entity.words
                where !spans.contains(where: { $0.track == entity.track && $0.words.contains(index) }) {
                    leakedPaymentMs += words[index].endMs - words[index].startMs
                }
            }
        }
        for span in spans {
            let hit = expected.contains { entity in
                entity.kind.category == span.category && entity.track == span.track
                    && entity.words.contains { span.words.contains($0) }
            }
            if hit {
                truePositives[span.kind, default: 0] += 1
            } else {
                falsePositives[span.kind, default: 0] += 1
                problems.append("\(script.name): unexpected \(span.kind)")
            }
        }
    }

    /// Recall and precision per kind as a fixed-width table.
    func table() -> String {
        var lines = ["kind            expected  recall  precision  (tp/fp)"]
        for kind in RedactionEntityKind.allCases {
            let found = recalled[kind, default: 0], total = found + missed[kind, default: 0]
            let tp = truePositives[kind, default: 0], fp = falsePositives[kind, default: 0]
            guard total + tp + fp > 0 else { continue }
            let recall = total == 0 ? "-" : percent(found, total)
            let precision = tp + fp == 0 ? "-" : percent(tp, tp + fp)
            lines.append(
                kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + pad(String(total), 8)
                    + pad(recall, 8)
                    + pad(precision, 11) + "  (\(tp)/\(fp))"
            )
        }
        lines.append("leaked payment audio: \(leakedPaymentMs) ms")
        return lines.joined(separator: "\n")
    }

    private func percent(_ part: Int, _ whole: Int) -> String {
        let tenths = (part * 1000 + whole / 2) / whole
        return "\(tenths / 10).\(tenths % 10) %"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
