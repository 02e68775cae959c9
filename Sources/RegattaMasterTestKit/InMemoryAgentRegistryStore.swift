// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaMaster
import Synchronization

/// An ``AgentRegistryStore`` in memory, for unit tests: it records every save and can be made to fail.
public final class InMemoryAgentRegistryStore: AgentRegistryStore {
    private struct State {
        var entries: [AgentID: AgentRegistryEntry] = [:]
        var saves: [AgentRegistryEntry] = []
        var failing = false
    }

    /// Why a call failed: ``setFailing(_:)`` simulates an outage.
    public struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
        /// What failed.
        public var description: String { "The in-memory agent registry is failing (setFailing(true))." }
    }

    public let location: String
    private let state = Mutex(State())

    /// A registry holding `entries`, reported at `location`.
    public init(entries: [AgentRegistryEntry] = [], location: String = "in-memory:/registry/agents") {
        self.location = location
        self.state.withLock { state in
            for entry in entries { state.entries[entry.agentID] = entry }
        }
    }

    /// The entries stored now.
    public var entries: [AgentRegistryEntry] {
        self.state.withLock { Array($0.entries.values) }
    }

    /// Every entry saved, in order.
    public var saves: [AgentRegistryEntry] { self.state.withLock { $0.saves } }

    /// Makes every call throw ``Unavailable`` (or work again).
    public func setFailing(_ failing: Bool) {
        self.state.withLock { $0.failing = failing }
    }

    public func load() async throws -> [AgentRegistryEntry] {
        try self.state.withLock { state in
            if state.failing { throw Unavailable() }
            return Array(state.entries.values)
        }
    }

    public func save(_ entry: AgentRegistryEntry, exists: Bool) async throws {
        try self.state.withLock { state in
            if state.failing { throw Unavailable() }
            state.entries[entry.agentID] = entry
            state.saves.append(entry)
        }
    }
}
