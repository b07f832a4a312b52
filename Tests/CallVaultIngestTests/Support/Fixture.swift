import Foundation
import Testing

@testable import CallVaultIngest

/// The Twilio-shaped messages in `Tests/CallVaultIngestTests/Fixtures`, written from Twilio's
/// documented Media Streams format (connected, start, media, dtmf, mark, stop).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The bytes of a fixture file, as a WebSocket text frame would hold them.
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

extension Array where Element == UInt8 {
    /// Runs `body` with a raw view of the bytes (how the server sees a received frame).
    func withRaw<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

/// The bytes of a string literal, for inline messages.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The `IngestError` `body` throws, or nil if it succeeds (another error type is a test failure).
func ingestError(_ body: () throws -> Void) -> IngestError? {
    do {
        try body()
        return nil
    } catch let error as IngestError {
        return error
    } catch {
        Issue.record("expected an IngestError, got \(error)")
        return nil
    }
}
