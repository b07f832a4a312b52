import CallVaultModel
import Foundation

/// The audit page's filters, read from the query string (they are ids, names and dates, never a number or
/// transcript text, so a GET link may carry them): action, actor, subject and a UTC date range. Parsed
/// strictly, so a mistyped filter is a 400 naming it instead of a page that silently shows everything.
struct AuditFilter: Equatable {
    var action: AuditAction?
    /// The actor as stored (`console:NAME`, `cli`, `sweeper`, …).
    var actor: String?
    /// What was typed in the actor field, shown back and carried in links.
    var actorTyped: String?
    var subject: String?
    /// `YYYY-MM-DD` as typed, and the day it names (midnight UTC).
    var from: (text: String, day: Date)?
    var to: (text: String, day: Date)?

    /// Actors that are a part of CallVault rather than an operator: typed bare, they are matched as they are.
    static let serviceActors: Set<String> = ["cli", "recorder", "sweeper", "recovery", "ingest", "api", "expired"]

    /// Why a filter was refused, said so the operator can fix the field.
    enum Failure: Error, Equatable {
        case unknownAction(String)
        case malformedDate(field: String, value: String)
        case dateRangeReversed
        case malformedText(field: String)

        var message: String {
            switch self {
            case .unknownAction(let action):
                "There is no audit action “\(action)”: choose one from the Action list (a playback is recording.decrypted)."
            case .malformedDate(let field, let value):
                "The “\(field)” date “\(value)” is not a date: write it as YYYY-MM-DD (UTC), e.g. 2026-03-01."
            case .dateRangeReversed:
                "The “from” date is after the “to” date: swap them."
            case .malformedText(let field):
                "The “\(field)” filter must be 1–200 letters, digits or . _ : @ - (an id or a name as shown in the log)."
            }
        }
    }

    init() {}

    /// The filters in `query`; an empty field is no filter.
    init(_ query: [String: String]) throws(Failure) {
        func field(_ name: String) -> String? {
            guard let value = query[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        if let text = field("action") {
            let action = AuditAction(rawValue: text)
            guard AuditAction.known.contains(action) else { throw .unknownAction(String(text.prefix(100))) }
            self.action = action
        }
        if let text = field("actor") {
            guard Self.isPlain(text) else { throw .malformedText(field: "actor") }
            actorTyped = text
            // An operator's name finds what they did in the console; `cli` and the services are matched as they are.
            actor = text.contains(":") || Self.serviceActors.contains(text) ? text : "console:" + text
        }
        if let text = field("subject") {
            guard Self.isPlain(text) else { throw .malformedText(field: "subject") }
            subject = text
        }
        for name in ["from", "to"] {
            guard let text = field(name) else { continue }
            guard let day = Self.day(text) else { throw .malformedDate(field: name, value: String(text.prefix(40))) }
            if name == "from" { from = (text, day) } else { to = (text, day) }
        }
        if let from, let to, from.day > to.day { throw .dateRangeReversed }
    }

    static func == (lhs: AuditFilter, rhs: AuditFilter) -> Bool {
        lhs.action == rhs.action && lhs.actor == rhs.actor && lhs.subject == rhs.subject && lhs.from?.day == rhs.from?.day
            && lhs.to?.day == rhs.to?.day
    }

    var isEmpty: Bool { action == nil && actor == nil && subject == nil && from == nil && to == nil }

    /// The store's query for a page of these filters (`to` is inclusive: entries before the next midnight).
    func query(tenantIDs: [String]?, direction: AuditEntryQuery.Direction, limit: Int) -> AuditEntryQuery {
        AuditEntryQuery(
            tenantIDs: tenantIDs, action: action, actor: actor, subjectID: subject, from: from?.day,
            before: to.map { $0.day.addingTimeInterval(86_400) }, direction: direction, limit: limit)
    }

    /// The filters as query fields, for the paging links.
    var fields: [(String, String?)] {
        [("action", action?.rawValue), ("actor", actorTyped), ("subject", subject), ("from", from?.text), ("to", to?.text)]
    }

    /// Ids and names only: no spaces, no `+`, nothing to smuggle into a link.
    static func isPlain(_ text: String) -> Bool {
        (1...200).contains(text.utf8.count)
            && text.unicodeScalars.allSatisfy { scalar in
                (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || "._:@-".unicodeScalars.contains(scalar)
            }
    }

    /// `YYYY-MM-DD` as midnight UTC; nil for anything else, including a day the month does not have.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let date = CallsPage.day(text)
        else { return nil }
        // Calendar rolls 2026-02-30 over into March: only a day that reads back the same is one.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        guard back.year == Int(parts[0]), back.month == Int(parts[1]), back.day == Int(parts[2]) else { return nil }
        return date
    }
}
