import CallVaultModel
import CallVaultStore
import Logging
import NIOCore

/// Sensitive windows of a live call (issue 17): the bot says "I am collecting payment now" (control API
/// `sensitive-start`, or a Twilio `mark` of that name once its audio has played) and "done"
/// (`sensitive-end`). The window is placed at the stream's timeline position and stored through the call's
/// catalog queue, in order with its consent evidence; the recording goes on, and the caller's track in the
/// window is redacted after the call whatever the detector finds.
extension CallLifecycle {
    /// The names a bot gives the control API event or the Twilio mark.
    static let sensitiveStart = "sensitive-start"
    static let sensitiveEnd = "sensitive-end"

    /// Opens (`open`) or closes the call's sensitive window at the current timeline position; the future
    /// says once it is stored (`.applied`), or why not (`.refused` before the call is set up, `.notStored`
    /// when the catalog failed: the bot should then pause the recording instead).
    func applySensitive(open: Bool, source: SensitiveWindow.Source) -> EventLoopFuture<ConsentEventOutcome> {
        guard let callID, !finished else {
            return eventLoop.makeSucceededFuture(.refused("the stream has not started a call yet"))
        }
        let atMs = timelineMs
        let promise = eventLoop.makePromise(of: ConsentEventOutcome.self)
        let store = context.catalog
        let metrics = context.metrics
        let logger = context.logger
        queue.enqueue {
            do throws(CatalogError) {
                if open {
                    _ = try await store.openSensitiveWindow(
                        callID: callID, atMs: atMs, source: source, actor: source == .api ? "api" : "stream", at: .now)
                } else {
                    try await store.closeSensitiveWindow(
                        callID: callID, atMs: atMs, source: source, actor: source == .api ? "api" : "stream", at: .now)
                }
                promise.succeed(.applied(recording: true))
            } catch {
                metrics.consentEvidenceFailures.increment()
                logger.error(
                    "a sensitive window could not be stored", metadata: ["call": "\(callID)", "error": "\(error.message)"])
                promise.succeed(.notStored("the sensitive window could not be stored: \(error.message)"))
            }
        }
        return promise.futureResult
    }

    /// A Twilio `mark` echoed back by the platform: `sensitive-start` / `sensitive-end` open and close the
    /// window where the bot placed them in its audio; another name may be one of the bot's utterances
    /// (``placeUtterance(named:)``), else it is the bot's own business.
    func applyMark(_ name: String) {
        let open: Bool
        switch name {
        case Self.sensitiveStart: open = true
        case Self.sensitiveEnd: open = false
        default: return placeUtterance(named: name)
        }
        _ = applySensitive(open: open, source: .mark)
    }
}
