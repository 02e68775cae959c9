// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import RegattaTestKit

/// Runs a scheduler's `run()` for as long as the test holds this (a test's scheduler lives as long as the test):
/// released, it cancels the run, as the end of a leadership term does.
final class RunningScheduler: Sendable {
    let scheduler: ServiceScheduler
    private let task: Task<Void, Never>

    init(_ scheduler: ServiceScheduler) {
        self.scheduler = scheduler
        self.task = Task { try? await scheduler.run() }
    }

    /// Stops the scheduler now and waits until its run has ended.
    func stop() async {
        self.task.cancel()
        await self.task.value
    }

    deinit {
        self.task.cancel()
    }
}

extension ServiceScheduler {
    /// A scheduler for tests: no logs, the given clock, a wall clock following it from a fixed date, and ids from a
    /// seeded generator.
    static func forTests(
        configuration: ServiceScheduler.Configuration = .init(),
        store: any SchedulerStore,
        connection: any MasterConnection,
        clock: ManualClock = ManualClock(),
        events: (any MarathonEventSink)? = nil,
        seed: UInt64 = 1
    ) -> ServiceScheduler {
        ServiceScheduler(
            configuration: configuration,
            store: store,
            connection: connection,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: clock,
            wallClock: { Date(timeIntervalSince1970: 1_800_000_000 + clock.uptimeNow.seconds) },
            ids: UUIDGenerator(SeededGenerator(seed: seed)),
            events: events
        )
    }
}
