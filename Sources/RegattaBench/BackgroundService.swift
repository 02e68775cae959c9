// SPDX-License-Identifier: Apache-2.0
import Logging
import ServiceLifecycle
import Synchronization

/// A long-running operation (a master, a scheduler, a simulator) started in the background, so a benchmark or
/// test can stop and restart one part of the cluster while the rest keeps running.
///
/// A `Service` runs in its own `ServiceGroup` and is stopped with a graceful shutdown, as SIGTERM would: a
/// server stops accepting connections before it closes the open ones. A plain operation is cancelled.
///
/// - Important: `start` stores the task's handle; call ``stop()`` to end the operation and wait for it. This is
///   the one place in RegattaBench that creates an unstructured task.
public final class BackgroundService: Sendable {
    private let task: Task<Void, Never>
    private let group: ServiceGroup?
    private let failure: FailureBox

    private init(task: Task<Void, Never>, group: ServiceGroup?, failure: FailureBox) {
        self.task = task
        self.group = group
        self.failure = failure
    }

    /// Starts `operation` in a new task; ``stop()`` cancels it.
    public static func start(_ operation: @escaping @Sendable () async throws -> Void) -> BackgroundService {
        let failure = FailureBox()
        let task = Task {
            do {
                try await operation()
            } catch is CancellationError {
                // Stopped.
            } catch {
                failure.record(error)
            }
        }
        return BackgroundService(task: task, group: nil, failure: failure)
    }

    /// Starts `service` in a service group of its own; ``stop()`` shuts it down gracefully, and cancels it
    /// if that takes longer than `maximumGracefulShutdown`.
    public static func start(
        service: any Service,
        logger: Logger,
        maximumGracefulShutdown: Duration = .seconds(10)
    ) -> BackgroundService {
        var configuration = ServiceGroupConfiguration(services: [.init(service: service)], logger: logger)
        configuration.maximumGracefulShutdownDuration = maximumGracefulShutdown
        let group = ServiceGroup(configuration: configuration)
        let failure = FailureBox()
        let task = Task {
            do {
                try await group.run()
            } catch is CancellationError {
                // Stopped.
            } catch {
                failure.record(error)
            }
        }
        return BackgroundService(task: task, group: group, failure: failure)
    }

    /// The error the operation ended with, if it ended with one (other than cancellation).
    public var error: (any Error)? { self.failure.error }

    /// Stops the operation (gracefully for a service, else by cancelling it) and waits until it returned.
    public func stop() async {
        if let group = self.group {
            await group.triggerGracefulShutdown()
        } else {
            self.task.cancel()
        }
        await self.task.value
    }
}

/// Where the background task records the error it ended with.
private final class FailureBox: Sendable {
    private let failure = Mutex<(any Error)?>(nil)
    var error: (any Error)? { self.failure.withLock { $0 } }
    func record(_ error: any Error) { self.failure.withLock { $0 = error } }
}

/// Runs a store's connections as a service, ending them on graceful shutdown.
struct StoreRunner: Service {
    let body: @Sendable () async throws -> Void

    func run() async throws {
        let body = self.body
        try await cancelWhenGracefulShutdown { try await body() }
    }
}
