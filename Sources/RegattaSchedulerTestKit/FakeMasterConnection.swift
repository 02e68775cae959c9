// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaScheduler

/// A `MasterConnection` that records every call instead of sending it (after Nomad's `Harness`).
///
/// `run` does nothing until cancelled; tests feed events to the scheduler directly.
public final class FakeMasterConnection: MasterConnection {
    private let recorded = Locked<[SchedulerCall]>([])
    private let failing = Locked(false)

    public init() {}

    /// Every call sent so far, in order.
    public var calls: [SchedulerCall] { self.recorded.value }

    /// The calls of one type.
    public func calls(_ type: SchedulerCall.CallType) -> [SchedulerCall] {
        self.recorded.value.filter { $0.type == type }
    }

    /// The tasks launched by ACCEPT calls.
    public var launched: [TaskInfo] {
        self.calls(.accept).flatMap { $0.accept?.operations ?? [] }.flatMap { $0.launch?.taskInfos ?? [] }
    }

    /// The task ids of KILL calls.
    public var killed: [TaskID] { self.calls(.kill).compactMap { $0.kill?.taskId } }

    /// Forgets recorded calls.
    public func reset() { self.recorded.withLock { $0 = [] } }

    /// Makes every `send` throw, as when the master is unreachable.
    public func setFailing(_ failing: Bool) { self.failing.withLock { $0 = failing } }

    public func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }

    public func send(_ call: SchedulerCall) async throws {
        if self.failing.value { throw SchedulerError(.masterUnavailable, "The fake master is failing.") }
        self.recorded.withLock { $0.append(call) }
    }
}
