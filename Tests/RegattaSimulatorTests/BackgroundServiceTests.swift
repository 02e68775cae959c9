// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaBench
import RegattaCore
import RegattaTestKit
import ServiceLifecycle
import Testing

/// ``BackgroundService`` is the one type in RegattaBench that keeps an unstructured task: ``BackgroundService/stop()``
/// must end it and wait for it, and the error it ended with must be kept.
@Suite(.timeLimit(.minutes(1))) struct BackgroundServiceTests {
    private struct Failure: Error {}

    /// A service that runs until graceful shutdown and records that it saw it.
    private struct WaitingService: Service {
        let clock: ManualClock
        let shutDown: Locked<Bool>

        func run() async throws {
            try? await cancelWhenGracefulShutdown { try await self.clock.sleep(for: .seconds(3600)) }
            self.shutDown.withLock { $0 = true }
        }
    }

    @Test func stopCancelsAnOperationAndWaitsForIt() async {
        // Given an operation that sleeps until it is cancelled
        let clock = ManualClock()
        let ended = Locked(false)
        let background = BackgroundService.start {
            defer { ended.withLock { $0 = true } }
            try await clock.sleep(for: .seconds(3600))
        }
        await clock.sleepers(atLeast: 1)
        // When it is stopped
        await background.stop()
        // Then it has ended, and a cancellation is not an error
        #expect(ended.value)
        #expect(background.error == nil)
    }

    @Test func theErrorAnOperationEndedWithIsKept() async {
        // Given an operation that fails
        let background = BackgroundService.start { throw Failure() }
        // When it is stopped after it ended
        await background.stop()
        // Then its error is kept
        #expect(background.error is Failure)
    }

    @Test func stopShutsAServiceDownGracefully() async {
        // Given a service that waits for graceful shutdown
        let clock = ManualClock()
        let shutDown = Locked(false)
        var logger = Logger(label: "regatta.bench.test")
        logger.logLevel = .critical
        let background = BackgroundService.start(
            service: WaitingService(clock: clock, shutDown: shutDown),
            logger: logger
        )
        await clock.sleepers(atLeast: 1)
        // When it is stopped
        await background.stop()
        // Then the service saw the graceful shutdown and returned
        #expect(shutDown.value)
        #expect(background.error == nil)
    }
}
