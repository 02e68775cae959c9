// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import Synchronization

/// The master's durable agent list, kept in an ``AgentRegistryStore``.
///
/// Writes for one agent run in the order they were submitted (each waits for the previous one of that agent);
/// writes for different agents run concurrently, so a store can pipeline them and thousands of agents can be
/// admitted within seconds. Background writes (``writeInBackground(_:exists:)``) run in ``run()``.
public final class AgentRegistry: Sendable {
    /// Completes once one write has finished, for the next write of the same agent to wait on.
    private final class Completion: Sendable {
        private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let done = self.state.withLock { state in
                    if !state.done { state.waiters.append(continuation) }
                    return state.done
                }
                if done { continuation.resume() }
            }
        }

        func complete() {
            let waiters = self.state.withLock { state in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Where the registry lives, for messages (e.g. `/mesos/registry/agents`).
    public var agentsPath: String { self.store.location }
    private let store: any AgentRegistryStore
    private let logger: Logger
    /// The last write submitted for each agent that has not finished yet.
    private let pending = Mutex<[AgentID: Completion]>([:])
    private let background: AsyncStream<@Sendable () async -> Void>
    private let submit: AsyncStream<@Sendable () async -> Void>.Continuation

    /// A registry kept in `store`.
    public init(store: any AgentRegistryStore, logger: Logger) {
        self.store = store
        self.logger = logger
        (self.background, self.submit) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Reads every entry (creating the registry if missing). Entries that cannot be decoded are skipped.
    public func load() async throws -> [AgentRegistryEntry] {
        try await self.store.load()
    }

    /// Performs the background writes until the calling task is cancelled; the election runs it for the term.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await write in self.background {
                group.addTask { await write() }
            }
        }
    }

    /// Writes `entry` like ``write(_:exists:)`` without waiting, in ``run()``; a failure is logged.
    public func writeInBackground(_ entry: AgentRegistryEntry, exists: Bool) {
        let write = self.enqueue(entry, exists: exists)
        let logger = self.logger
        self.submit.yield {
            do {
                try await write()
            } catch {
                logger.error(
                    "Could not update the agent registry",
                    metadata: [
                        LogKey.agentID: "\(entry.agentID)", "registry.state": "\(entry.state.rawValue)",
                        LogKey.error: "\(error)",
                    ]
                )
            }
        }
    }

    /// Writes `entry` after any earlier write for the same agent.
    ///
    /// - Parameter exists: whether the entry is believed to be stored already (a hint for the store).
    public func write(_ entry: AgentRegistryEntry, exists: Bool) async throws {
        try await self.enqueue(entry, exists: exists)()
    }

    /// Takes the agent's place in line now (so writes keep the order they were submitted in) and returns the write.
    private func enqueue(_ entry: AgentRegistryEntry, exists: Bool) -> @Sendable () async throws -> Void {
        let id = entry.agentID
        let completion = Completion()
        let previous = self.pending.withLock { pending in
            defer { pending[id] = completion }
            return pending[id]
        }
        let store = self.store
        return {
            defer {
                completion.complete()
                // Forget the write once it is done, unless a later one replaced it.
                self.pending.withLock { pending in
                    if pending[id] === completion { pending[id] = nil }
                }
            }
            await previous?.wait()
            try await store.save(entry, exists: exists)
        }
    }
}
