// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct StatusUpdateQueuesTests {
    private let key = TaskKey(frameworkID: "fw", taskID: "t1")

    private func update(_ state: TaskState, uuid: String) -> StatusUpdateQueues.PendingUpdate {
        StatusUpdateQueues.PendingUpdate(
            frameworkID: "fw", status: TaskStatus(taskId: "t1", state: state, uuid: uuid))
    }

    @Test func deliversInOrderWithOneSender() {
        // Given
        var queues = StatusUpdateQueues()
        // When
        let startsSender = queues.enqueue(self.update(.starting, uuid: "a"), for: self.key)
        let startsSecond = queues.enqueue(self.update(.running, uuid: "b"), for: self.key)
        // Then
        #expect(startsSender)
        #expect(!startsSecond)
        let first = queues.next(for: self.key)
        #expect(first?.status.state == .starting)
        queues.delivered(for: self.key, uuid: "a")
        let second = queues.next(for: self.key)
        #expect(second?.status.state == .running)
        queues.delivered(for: self.key, uuid: "b")
        let third = queues.next(for: self.key)
        #expect(third == nil)
        #expect(queues.pendingCount == 0)
    }

    @Test func headStaysUntilDelivered() {
        // Given
        var queues = StatusUpdateQueues()
        _ = queues.enqueue(self.update(.starting, uuid: "a"), for: self.key)
        _ = queues.enqueue(self.update(.running, uuid: "b"), for: self.key)
        // When an attempt fails, then a stale answer names another update
        let attempt = queues.next(for: self.key)
        queues.delivered(for: self.key, uuid: "b")
        let retry = queues.next(for: self.key)
        // Then the head is retried and nothing was dropped
        #expect(attempt?.status.uuid == "a")
        #expect(retry?.status.uuid == "a")
        #expect(queues.pendingCount == 2)
    }

    @Test func emptyQueueEndsSenderAndNextEnqueueStartsOne() {
        // Given
        var queues = StatusUpdateQueues()
        _ = queues.enqueue(self.update(.starting, uuid: "a"), for: self.key)
        _ = queues.next(for: self.key)
        queues.delivered(for: self.key, uuid: "a")
        // When
        let drained = queues.next(for: self.key)
        let startsSender = queues.enqueue(self.update(.finished, uuid: "c"), for: self.key)
        // Then
        #expect(drained == nil)
        #expect(startsSender)
    }

    @Test func tasksHaveIndependentQueues() {
        // Given
        var queues = StatusUpdateQueues()
        let other = TaskKey(frameworkID: "fw", taskID: "t2")
        // When
        let first = queues.enqueue(self.update(.starting, uuid: "a"), for: self.key)
        let second = queues.enqueue(self.update(.starting, uuid: "x"), for: other)
        // Then
        #expect(first && second)
        #expect(queues.pending(for: other).count == 1)
        #expect(queues.pendingCount == 2)
    }
}
