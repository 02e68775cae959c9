// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// A ``MasterConnection`` that can be shut at once: after ``close()`` no call reaches the master, so a scheduler
/// that learns it lost leadership stops launching and killing before its tasks have wound down.
final class GatedMasterConnection: MasterConnection {
    private let base: any MasterConnection
    private let closed = Locked(false)

    init(_ base: any MasterConnection) {
        self.base = base
    }

    /// Refuses every later call.
    func close() {
        self.closed.withLock { $0 = true }
    }

    func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo, events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        guard !self.closed.value else { return }
        try await self.base.run(frameworkInfo: frameworkInfo, events: events)
    }

    func send(_ call: SchedulerCall) async throws {
        guard !self.closed.value else {
            throw SchedulerError(.notLeader, "This scheduler no longer leads; the \(call.type.rawValue) call was dropped.")
        }
        try await self.base.send(call)
    }
}
