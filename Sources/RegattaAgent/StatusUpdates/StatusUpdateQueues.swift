// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The status updates waiting for the master, one ordered queue per task.
///
/// A pure state machine: the agent enqueues updates, one sender per task takes the head with ``next(for:)``,
/// sends it until the master takes it, then calls ``delivered(for:uuid:)``. Updates are never dropped and a
/// task's updates are delivered in the order they were produced.
struct StatusUpdateQueues: Sendable {
    /// An update waiting for delivery.
    struct PendingUpdate: Hashable, Sendable {
        var frameworkID: FrameworkID
        var status: TaskStatus
    }

    private var queues: [TaskKey: [PendingUpdate]] = [:]
    private var activeSenders: Set<TaskKey> = []

    /// Appends an update to its task's queue.
    ///
    /// - Returns: `true` when no sender is active for the task, so the caller must start one.
    mutating func enqueue(_ update: PendingUpdate, for key: TaskKey) -> Bool {
        self.queues[key, default: []].append(update)
        return self.activeSenders.insert(key).inserted
    }

    /// The update the task's sender must deliver next; `nil` when the queue is empty, which also ends the sender
    /// (a later ``enqueue(_:for:)`` asks for a new one).
    mutating func next(for key: TaskKey) -> PendingUpdate? {
        if let head = self.queues[key]?.first {
            return head
        }
        self.queues[key] = nil
        self.activeSenders.remove(key)
        return nil
    }

    /// Removes the head of the task's queue once the master has taken it. A `uuid` that is not the head's does
    /// nothing, so a late duplicate answer cannot drop a newer update.
    mutating func delivered(for key: TaskKey, uuid: String?) {
        guard let head = self.queues[key]?.first, head.status.uuid == uuid else { return }
        self.queues[key]?.removeFirst()
    }

    /// How many updates wait for delivery, over all tasks.
    var pendingCount: Int {
        self.queues.values.reduce(0) { $0 + $1.count }
    }

    /// The updates waiting for one task, oldest first.
    func pending(for key: TaskKey) -> [PendingUpdate] {
        self.queues[key] ?? []
    }
}
