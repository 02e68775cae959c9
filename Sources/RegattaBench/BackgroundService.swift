// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A long-running operation (a master, a scheduler, a simulator) started in the background and stopped by
/// cancelling it, so a benchmark can stop and restart one part of the cluster while the rest keeps running.
///
/// - Important: ``start(_:)`` stores the task's handle; call ``stop()`` to cancel it and wait for it to end.
///   It is the one place in RegattaBench that creates an unstructured task.
public final class BackgroundService: Sendable {
    private let task: Task<Void, Never>
    private let failure: FailureBox

    private init(task: Task<Void, Never>, failure: FailureBox) {
        self.task = task
        self.failure = failure
    }

    /// Starts `operation` in a new task.
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
        return BackgroundService(task: task, failure: failure)
    }

    /// The error the operation ended with, if it ended with one (other than cancellation).
    public var error: (any Error)? { self.failure.error }

    /// Cancels the operation and waits until it returned.
    public func stop() async {
        self.task.cancel()
        await self.task.value
    }
}

/// Where the background task records the error it ended with.
private final class FailureBox: Sendable {
    private let failure = Mutex<(any Error)?>(nil)
    var error: (any Error)? { self.failure.withLock { $0 } }
    func record(_ error: any Error) { self.failure.withLock { $0 = error } }
}
