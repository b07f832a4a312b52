public import CallVaultArchive
public import CallVaultStore
import Foundation
public import Logging
import Synchronization

/// Runs N workers, each a task with its own engine on its own thread, against one queue and catalog.
///
/// Tasks for the queue and catalog (async, a network round trip on PostgreSQL); a thread per worker for
/// its engine (``EngineThread``), which is also the executor its task prefers: engine calls block for
/// seconds (a decoder, a pipe, a socket), which would starve Swift's cooperative pool.
public enum TranscriptionPool {
    /// What a worker does when nothing is due.
    public enum Idle: Sendable, Equatable {
        /// Stop: the run drains what is due now and returns (`transcribe --pending`).
        case stop
        /// Wait for work (``JobQueue/waitForWork(timeout:)``: a `NOTIFY` on PostgreSQL, a 100 ms look on
        /// SQLite) at most `poll`, then claim again; the run goes on until its task is cancelled.
        case wait(poll: Duration)
    }

    /// Drains the queue.
    /// - Parameters:
    ///   - catalog: recordings, transcripts and tenants' policies.
    ///   - queue: where jobs are claimed; nil: the catalog's own (``CatalogStore/queue``).
    ///   - limit: claim at most this many jobs in all (nil: until nothing is due, or with `idle: .wait`
    ///     until cancelled).
    ///   - idle: stop when nothing is due (the default), or wait for work until cancelled.
    ///   - configuration: the configuration of worker `i` (ids must differ).
    ///   - makeModelEngine: makes a worker's engine for a tenant's own model (nil: tenants' models are ignored).
    ///   - progress: called after each job, from the worker's task.
    /// - Throws: the engine's error if no worker could make an engine (a missing model), or a store error.
    public static func drain(
        catalog: any CatalogStore, queue: (any JobQueue)? = nil, keyStore: KeyStore, dataDirectory: DataDirectory,
        workers: Int, limit: Int? = nil, idle: Idle = .stop,
        configuration: @escaping @Sendable (Int) -> TranscriptionWorker.Configuration,
        makeEngine: @escaping TranscriptionEngineFactory,
        makeModelEngine: TranscriptionModelEngineFactory? = nil,
        logger: Logger = Logger(label: "callvault.transcribe"),
        progress: (@Sendable (TranscriptionWorker.Report) -> Void)? = nil
    ) async throws(TranscriptionError) -> TranscriptionSummary {
        let queue = queue ?? catalog.queue
        let state = PoolShared(PoolState(budget: limit))
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<max(1, workers) {
                // The worker's loop runs on its engine's thread too (executor preference): its claims and
                // waits keep their pace when the cooperative pool is busy, and the engine calls it hands
                // to the thread run while the loop is suspended awaiting them.
                let thread = EngineThread(name: "callvault-transcribe-\(index)")
                group.addTask(executorPreference: thread) {
                    defer { thread.close() }
                    let engine: any TranscriptionEngine
                    do throws(TranscriptionError) {
                        engine = try await thread.run { () throws(TranscriptionError) in
                            EngineHandle(engine: try makeEngine())
                        }.engine
                    } catch {
                        state.withLock { $0.errors.append(error) }
                        return
                    }
                    state.withLock { $0.started += 1 }
                    let worker = TranscriptionWorker(
                        catalog: catalog, queue: queue, keyStore: keyStore, dataDirectory: dataDirectory, engine: engine,
                        engineThread: thread, configuration: configuration(index), makeModelEngine: makeModelEngine,
                        logger: logger)
                    await work(worker, queue: queue, idle: idle, state: state, logger: logger, progress: progress)
                }
            }
        }
        let final = state.withLock { $0 }
        if let error = final.errors.first, final.started == 0 || final.summary.jobs == 0 { throw error }
        return final.summary
    }

    /// The run's state, shared by its workers' tasks.
    private final class PoolShared: Sendable {
        private let state: Mutex<PoolState>
        init(_ initial: PoolState) { state = Mutex(initial) }
        func withLock<T>(_ body: (inout PoolState) -> T) -> T { state.withLock { body(&$0) } }
    }

    /// What the workers of one run share.
    private struct PoolState {
        var summary = TranscriptionSummary()
        var budget: Int?
        var errors: [TranscriptionError] = []
        var started = 0

        /// Takes one claim from the budget; false when it is spent.
        mutating func takeClaim() -> Bool {
            guard let budget else { return true }
            guard budget > 0 else { return false }
            self.budget = budget - 1
            return true
        }

        /// Gives back a claim that found nothing.
        mutating func returnClaim() {
            if let budget { self.budget = budget + 1 }
        }
    }

    /// One worker's loop: claim and process until the budget is spent, and then per `idle` stop or wait.
    private static func work(
        _ worker: TranscriptionWorker, queue: any JobQueue, idle: Idle, state: PoolShared, logger: Logger,
        progress: (@Sendable (TranscriptionWorker.Report) -> Void)?
    ) async {
        // After a wake-up that found nothing for this worker (another took the job, or it is another
        // engine's: SQLite's wait looks for any runnable job), the next wait would return at once; a short
        // pause keeps an idle worker from spinning on such a job.
        var woken = false
        while !Task.isCancelled {
            guard state.withLock({ $0.takeClaim() }) else { return }
            let report: TranscriptionWorker.Report?
            do throws(TranscriptionError) {
                report = try await worker.runNext()
            } catch {
                state.withLock { $0.returnClaim() }
                guard case .wait(let poll) = idle else {
                    state.withLock { $0.errors.append(error) }
                    return
                }
                // A worker that waits for work outlives a database that is briefly away.
                logger.warning("transcription worker: \(error.message); trying again in \(poll)")
                do { try await Task.sleep(for: poll) } catch { return }
                continue
            }
            if let report {
                woken = false
                state.withLock { $0.summary.add(report) }
                progress?(report)
                continue
            }
            state.withLock { $0.returnClaim() }
            guard case .wait(let poll) = idle else { return }
            if woken {
                do { try await Task.sleep(for: min(poll, .seconds(1))) } catch { return }
            }
            // Cancelled while claiming: stop now rather than wait out a poll interval.
            if Task.isCancelled { return }
            do {
                woken = try await queue.waitForWork(timeout: poll)
            } catch {
                logger.warning("transcription worker: cannot wait for work: \(error.message)")
                do { try await Task.sleep(for: poll) } catch { return }
            }
        }
    }
}
