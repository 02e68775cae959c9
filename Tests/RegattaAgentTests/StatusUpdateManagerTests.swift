// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaAgent

@Suite struct StatusUpdateManagerTests {
    private let key = TaskKey(frameworkID: "fw", taskID: "t1")
    private let other = TaskKey(frameworkID: "fw", taskID: "t2")
    private let clock = ManualClock()

    private func update(_ state: TaskState, _ uuid: String, task: TaskID = "t1") -> StatusUpdateManager.Update {
        StatusUpdateManager.Update(frameworkId: "fw", status: TaskStatus(taskId: task, state: state, uuid: uuid))
    }

    /// A running manager with Mesos's timing (acks: 10 s doubling to 10 min; failures: 0.5 s doubling to 10 s).
    private func manager() -> StatusUpdateManager {
        var manager = StatusUpdateManager()
        _ = manager.resume(now: self.clock.uptimeNow)
        return manager
    }

    private func sent(_ actions: [StatusUpdateManager.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .send(_, let update): update.uuid
            }
        }
    }

    @Test func sendsOnlyTheHeadAndTheNextAfterItsAcknowledgement() {
        // Given
        var manager = self.manager()
        // When two updates of one task are produced
        let first = manager.enqueue(self.update(.starting, "a"), for: self.key, now: self.clock.uptimeNow)
        let second = manager.enqueue(self.update(.running, "b"), for: self.key, now: self.clock.uptimeNow)
        // Then only the first goes out
        #expect(self.sent(first) == ["a"])
        #expect(second.isEmpty)
        // When the master takes it, the second still waits for the acknowledgement
        let taken = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        #expect(taken.next == nil)
        #expect(manager.due(now: self.clock.uptimeNow + .seconds(5)).isEmpty)
        // When the framework acknowledges it, the second goes out at once
        let acknowledgement = manager.acknowledge(self.key, uuid: "a", now: self.clock.uptimeNow)
        #expect(
            acknowledgement
                == .acknowledged(self.update(.starting, "a"), next: .send(self.key, self.update(.running, "b")))
        )
        #expect(manager.pending(for: self.key).map(\.uuid) == ["b"])
    }

    @Test func resendsUnacknowledgedUpdatesWithMesosBackoff() {
        // Given a taken but unacknowledged update
        var manager = self.manager()
        _ = manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow)
        var resends: [Duration] = []
        let start = self.clock.uptimeNow
        // When nobody acknowledges it, it is resent at 10 s, then 20, 40, … capped at 10 min
        _ = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        for _ in 0..<8 {
            var due: [StatusUpdateManager.Action] = []
            while due.isEmpty {
                self.clock.advance(by: .seconds(1))
                due = manager.due(now: self.clock.uptimeNow)
                #expect(self.clock.uptimeNow - start < .seconds(3600))
            }
            #expect(self.sent(due) == ["a"])
            resends.append(self.clock.uptimeNow - start)
            _ = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        }
        // Then
        let gaps = zip(resends, [Duration.zero] + resends).map { $0 - $1 }
        #expect(
            gaps == [
                .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(320), .seconds(600),
                .seconds(600),
            ]
        )
        // And the same uuid is resent every time
        #expect(manager.pending(for: self.key).map(\.uuid) == ["a"])
    }

    @Test func retriesUpdatesTheMasterDidNotTakeWithTheFailureBackoff() {
        // Given
        var manager = self.manager()
        _ = manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow)
        // When the master answers 503 twice
        let first = manager.sent(self.key, uuid: "a", outcome: .failed, now: self.clock.uptimeNow)
        #expect(first.retryAt == self.clock.uptimeNow + .milliseconds(500))
        #expect(first.failures == 1)
        self.clock.advance(by: .milliseconds(499))
        #expect(manager.due(now: self.clock.uptimeNow).isEmpty)
        self.clock.advance(by: .milliseconds(1))
        #expect(self.sent(manager.due(now: self.clock.uptimeNow)) == ["a"])
        let second = manager.sent(self.key, uuid: "a", outcome: .failed, now: self.clock.uptimeNow)
        // Then the delay doubles
        #expect(second.retryAt == self.clock.uptimeNow + .seconds(1))
        #expect(second.failures == 2)
        // And a later success switches to waiting for the acknowledgement
        self.clock.advance(by: .seconds(1))
        _ = manager.due(now: self.clock.uptimeNow)
        let taken = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        #expect(taken.retryAt == self.clock.uptimeNow + .seconds(10))
        #expect(manager.isHeadTaken(self.key))
        #expect(manager.masterState(for: self.key) == .running)
    }

    @Test func ignoresDuplicateAndUnknownAcknowledgements() {
        // Given
        var manager = self.manager()
        _ = manager.enqueue(self.update(.starting, "a"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.enqueue(self.update(.running, "b"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        // When the framework acknowledges "a" twice, then acknowledges "b" before it was sent, and an unknown uuid
        let first = manager.acknowledge(self.key, uuid: "a", now: self.clock.uptimeNow)
        let duplicate = manager.acknowledge(self.key, uuid: "a", now: self.clock.uptimeNow)
        let unknown = manager.acknowledge(self.key, uuid: "zzz", now: self.clock.uptimeNow)
        let otherTask = manager.acknowledge(self.other, uuid: "b", now: self.clock.uptimeNow)
        // Then only the first counts
        if case .acknowledged = first {} else { Issue.record("the first acknowledgement was ignored") }
        #expect(duplicate == .ignored)
        #expect(unknown == .ignored)
        #expect(otherTask == .ignored)
        #expect(manager.pending(for: self.key).map(\.uuid) == ["b"])
    }

    @Test func aLateSendAnswerAfterTheAcknowledgementChangesNothing() {
        // Given a resend in flight when the acknowledgement arrives
        var manager = self.manager()
        _ = manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.enqueue(self.update(.finished, "b"), for: self.key, now: self.clock.uptimeNow)
        let acknowledgement = manager.acknowledge(self.key, uuid: "a", now: self.clock.uptimeNow)
        #expect(
            acknowledgement
                == .acknowledged(self.update(.running, "a"), next: .send(self.key, self.update(.finished, "b")))
        )
        // When the answer to the old send comes
        let late = manager.sent(self.key, uuid: "a", outcome: .failed, now: self.clock.uptimeNow)
        // Then the new head is still in flight, untouched
        #expect(late.retryAt == nil)
        #expect(manager.inFlightCount == 1)
        #expect(manager.due(now: self.clock.uptimeNow + .seconds(100)).isEmpty)
    }

    @Test func streamsOfDifferentTasksDoNotWaitForEachOther() {
        // Given
        var manager = self.manager()
        _ = manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        // When another task reports
        let actions = manager.enqueue(
            self.update(.running, "x", task: "t2"),
            for: self.other,
            now: self.clock.uptimeNow
        )
        // Then it goes out although the first task's head is unacknowledged
        #expect(self.sent(actions) == ["x"])
    }

    @Test func sendsNothingWhilePausedAndEveryHeadOnResume() {
        // Given a paused manager (the agent is not registered)
        var manager = StatusUpdateManager()
        // When updates are produced
        #expect(manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow).isEmpty)
        #expect(
            manager.enqueue(self.update(.running, "x", task: "t2"), for: self.other, now: self.clock.uptimeNow).isEmpty
        )
        #expect(manager.due(now: self.clock.uptimeNow + .seconds(60)).isEmpty)
        // Then resuming sends each stream's head
        #expect(Set(self.sent(manager.resume(now: self.clock.uptimeNow))) == ["a", "x"])
        // And pausing again holds retries
        _ = manager.sent(self.key, uuid: "a", outcome: .failed, now: self.clock.uptimeNow)
        manager.pause()
        #expect(manager.due(now: self.clock.uptimeNow + .seconds(60)).isEmpty)
        #expect(self.sent(manager.resume(now: self.clock.uptimeNow + .seconds(60))) == ["a"])
    }

    @Test func restoresStreamsFromTheCheckpoint() {
        // Given a checkpointed stream whose head the master had taken
        var manager = StatusUpdateManager()
        manager.restore(
            self.key,
            pending: [self.update(.running, "b"), self.update(.finished, "c")],
            headTaken: true,
            masterState: .running
        )
        // Then the SUBSCRIBE state is what the master took, and the head is resent on resume
        #expect(manager.masterState(for: self.key) == .running)
        #expect(self.sent(manager.resume(now: self.clock.uptimeNow)) == ["b"])
        #expect(manager.pendingCount == 2)
        #expect(!manager.isEverythingTaken)
    }

    @Test func updatesOfAShutDownFrameworkAreDoneOnceTaken() {
        // Given a framework whose tasks' updates wait for acknowledgements that will never come
        var manager = self.manager()
        _ = manager.enqueue(self.update(.running, "a"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.enqueue(self.update(.killed, "b"), for: self.key, now: self.clock.uptimeNow)
        _ = manager.sent(self.key, uuid: "a", outcome: .taken, now: self.clock.uptimeNow)
        // When the master shuts the framework down
        let (completed, actions) = manager.frameworkShutDown("fw", now: self.clock.uptimeNow)
        // Then the taken head is done and the terminal update goes out
        #expect(completed.map(\.uuid) == ["a"])
        #expect(self.sent(actions) == ["b"])
        // And is done as soon as the master takes it
        let result = manager.sent(self.key, uuid: "b", outcome: .taken, now: self.clock.uptimeNow)
        #expect(result.completed?.uuid == "b")
        #expect(manager.pendingCount == 0)
        #expect(manager.isEverythingTaken)
    }

    @Test func masterStateFollowsAcknowledgementsEvenWhenTheSendAnswerWasLost() {
        // Given
        var manager = self.manager()
        _ = manager.enqueue(self.update(.starting, "a"), for: self.key, now: self.clock.uptimeNow)
        #expect(manager.masterState(for: self.key) == nil)
        // When the acknowledgement arrives before the 202
        _ = manager.acknowledge(self.key, uuid: "a", now: self.clock.uptimeNow)
        // Then
        #expect(manager.masterState(for: self.key) == .starting)
        #expect(manager.isEverythingTaken)
    }
}
