import CallVaultModel
import CallVaultTestSupport
import Foundation
import Testing

@testable import CallVaultStore

extension AuditStoreConformanceTests {
    /// A log of known entries: three tenants and none, four actions, three actors, a handful of subjects,
    /// spread over five days (entries of a day are out of time order with their neighbours now and then, as
    /// an appender that passes the event's own time makes them).
    static func filterLog(_ store: any AuditStore) async throws -> [AuditEntry] {
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15 08:00 UTC
        let actions: [AuditAction] = [.recordingDecrypted, .jobRetried, .holdSet, .operatorSignedIn]
        let actors = ["console:ada", "cli", "sweeper"]
        var entries: [AuditEntry] = []
        for index in 0..<90 {
            let tenant: String? = index % 7 == 6 ? nil : ["t1", "t2", "t3"][index % 3]
            // Seven hours apart, with every fifth entry an hour before the one before it.
            let at = start.addingTimeInterval(Double(index) * 7 * 3600 - (index % 5 == 4 ? 8 * 3600 : 0))
            entries.append(
                try await store.append(
                    AuditEvent(
                        actor: actors[(index / 2) % 3], action: actions[index % 4], tenantID: tenant,
                        subjectID: index % 11 == 0 ? nil : "s\(index % 6)", details: ["i": "\(index)"], at: at)))
        }
        return entries
    }

    /// Every entry matching `query` across pages of `pageSize`, following the cursor in its direction.
    static func allPages(_ store: any AuditStore, _ query: AuditEntryQuery, pageSize: Int) async throws -> [AuditEntry] {
        var query = query
        query.limit = pageSize
        var seen: [AuditEntry] = []
        while true {
            let page = try await store.entries(matching: query)
            seen += page
            guard page.count == pageSize, let last = page.last else { return seen }
            switch query.direction {
            case .newestFirst: query.direction = .newestFirst(beforeSeq: last.seq)
            case .oldestFirst: query.direction = .oldestFirst(afterSeq: last.seq)
            }
        }
    }

    /// Each filter alone and every combination of them returns exactly the matching entries, newest first
    /// across pages (each once) and oldest first from a cursor, within the tenants given.
    @Test(arguments: Backend.all)
    func filtersAloneAndCombinedReturnExactlyTheMatchingEntries(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            let store = fixture.store
            let log = try await Self.filterLog(store)
            let day = 86_400.0
            let firstDay = Date(timeIntervalSince1970: 1_800_000_000 - 8 * 3600)  // 2027-01-15 00:00 UTC
            let windows: [(Date?, Date?)] = [
                (nil, nil), (firstDay.addingTimeInterval(3 * day), nil), (nil, firstDay.addingTimeInterval(5 * day)),
                (firstDay.addingTimeInterval(2 * day), firstDay.addingTimeInterval(4 * day)),
            ]
            var checked = 0
            for tenants in [nil, ["t1"], ["t2", "t3"]] as [[String]?] {
                for action in [nil, AuditAction.jobRetried, .holdSet] as [AuditAction?] {
                    for actor in [nil, "console:ada", "cli"] as [String?] {
                        for subject in [nil, "s2", "s5"] as [String?] {
                            for (from, before) in windows {
                                let query = AuditEntryQuery(
                                    tenantIDs: tenants, action: action, actor: actor, subjectID: subject, from: from,
                                    before: before)
                                let expected = log.filter { entry in
                                    (tenants.map { $0.contains(entry.tenantId ?? "-") } ?? true)
                                        && (action.map { entry.action == $0 } ?? true)
                                        && (actor.map { entry.actor == $0 } ?? true)
                                        && (subject.map { entry.subjectId == $0 } ?? true)
                                        && (from.map { entry.at >= $0 } ?? true) && (before.map { entry.at < $0 } ?? true)
                                }
                                let label =
                                    "tenants \(tenants ?? ["all"]), action \(action?.rawValue ?? "any"), actor \(actor ?? "any"), subject \(subject ?? "any"), from \(from.map { "\($0)" } ?? "-"), before \(before.map { "\($0)" } ?? "-")"
                                let newest = try await Self.allPages(store, query, pageSize: 4)
                                #expect(newest.map(\.seq) == expected.reversed().map(\.seq), "\(label)")
                                // The page just newer than a cursor in the middle, oldest first.
                                let middle = log[log.count / 2].seq
                                var forward = query
                                forward.direction = .oldestFirst(afterSeq: middle)
                                #expect(
                                    try await Self.allPages(store, forward, pageSize: 3).map(\.seq)
                                        == expected.filter { $0.seq > middle }.map(\.seq), "\(label), forwards")
                                checked += expected.isEmpty ? 0 : 1
                            }
                        }
                    }
                }
            }
            #expect(checked > 100, "most combinations match something")
            // Each filter alone matches some entries but not all (the log exercises it).
            for query in [
                AuditEntryQuery(action: .jobRetried), AuditEntryQuery(actor: "cli"), AuditEntryQuery(subjectID: "s2"),
                AuditEntryQuery(from: firstDay.addingTimeInterval(2 * day), before: firstDay.addingTimeInterval(3 * day)),
            ] {
                let found = try await Self.allPages(store, query, pageSize: 100)
                #expect(!found.isEmpty && found.count < log.count)
            }
            #expect(try await store.entries(matching: AuditEntryQuery(tenantIDs: [], action: .holdSet)).isEmpty)
            #expect(try await store.entries(matching: AuditEntryQuery(action: "no.such_action")).isEmpty)
            // Paging with a filter from any cursor gives each matching entry once.
            let retried = try await Self.allPages(store, AuditEntryQuery(tenantIDs: ["t1", "t2"], action: .jobRetried), pageSize: 1)
            #expect(Set(retried.map(\.seq)).count == retried.count)
            #expect(retried.count == log.filter { $0.action == .jobRetried && ["t1", "t2"].contains($0.tenantId ?? "") }.count)
        }
    }

    /// The migration's indexes exist (SQLite v20, PostgreSQL 21), so the filters are index walks.
    @Test(arguments: Backend.all)
    func theAuditFilterIndexesExist(_ backend: Backend) async throws {
        try await AuditFixture.run(backend) { fixture in
            for index in ["audit_log_by_action", "audit_log_by_actor", "audit_log_by_subject"] {
                switch backend {
                case .sqlite:
                    // An index of that name already there makes CREATE INDEX fail.
                    #expect(throws: (any Error).self) { try fixture.rawSQL("CREATE INDEX \(index) ON audit_log(seq)", false) }
                case .postgres:
                    #expect(throws: (any Error).self) { try fixture.rawSQL("CREATE INDEX \(index) ON audit_log (seq)", false) }
                }
            }
        }
    }
}
