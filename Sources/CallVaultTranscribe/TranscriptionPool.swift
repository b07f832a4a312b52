public import CallVaultArchive
public import CallVaultStore
import Foundation
import Synchronization

/// Runs N workers, each on its own thread with its own engine, until the queue has nothing due.
///
/// Threads rather than tasks: engine calls block (a decoder, a pipe, a socket) for seconds, which
/// would starve Swift's cooperative pool.
public enum TranscriptionPool {
    /// Drains the queue.
    /// - Parameters:
    ///   - limit: claim at most this many jobs in all (nil: until nothing is due).
    ///   - configuration: the configuration of worker `i` (ids must differ).
    ///   - makeModelEngine: makes a worker's engine for a tenant's own model (nil: tenants' models are ignored).
    ///   - progress: called after each job, from the worker's thread.
    /// - Throws: the engine's error if no worker could make an engine (a missing model), or a store error.
    public static func drain(
        catalog: Catalog, keyStore: KeyStore, dataDirectory: DataDirectory, workers: Int, limit: Int? = nil,
        configuration: @escaping @Sendable (Int) -> TranscriptionWorker.Configuration,
        makeEngine: @escaping TranscriptionEngineFactory,
        makeModelEngine: TranscriptionModelEngineFactory? = nil,
        progress: (@Sendable (TranscriptionWorker.Report) -> Void)? = nil
    ) throws(TranscriptionError) -> TranscriptionSummary {
        struct State {
            var summary = TranscriptionSummary()
            var budget: Int?
            var errors: [TranscriptionError] = []
            var started = 0
        }
        let state = Mutex(State(budget: limit))
        let group = DispatchGroup()
        for index in 0..<max(1, workers) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let engine: any TranscriptionEngine
                do throws(TranscriptionError) { engine = try makeEngine() } catch {
                    state.withLock { $0.errors.append(error) }
                    return
                }
                state.withLock { $0.started += 1 }
                let worker = TranscriptionWorker(
                    catalog: catalog, keyStore: keyStore, dataDirectory: dataDirectory, engine: engine,
                    configuration: configuration(index), makeModelEngine: makeModelEngine)
                while true {
                    let allowed = state.withLock { state -> Bool in
                        guard let budget = state.budget else { return true }
                        guard budget > 0 else { return false }
                        state.budget = budget - 1
                        return true
                    }
                    guard allowed else { return }
                    do throws(TranscriptionError) {
                        guard let report = try worker.runNext() else {
                            state.withLock { if $0.budget != nil { $0.budget! += 1 } }
                            return
                        }
                        state.withLock { $0.summary.add(report) }
                        progress?(report)
                    } catch {
                        state.withLock { $0.errors.append(error) }
                        return
                    }
                }
            }
            thread.name = "callvault-transcribe-\(index)"
            thread.start()
        }
        group.wait()
        let final = state.withLock { $0 }
        if let error = final.errors.first, final.started == 0 || final.summary.jobs == 0 { throw error }
        return final.summary
    }
}
