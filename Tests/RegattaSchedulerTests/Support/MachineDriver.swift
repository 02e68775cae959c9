// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaScheduler
import RegattaTestKit

/// Drives a ``SchedulerState`` by hand for unit tests: hands it events at a manual time and keeps what it asked for
/// (the write in flight, the batch of calls being sent, every call, answer and event), finishing writes and calls
/// only when the test says so.
struct MachineDriver {
    var state: SchedulerState
    var now = SchedulerState.Now(uptime: .zero, date: Date(timeIntervalSince1970: 1_800_000_000))
    /// The write in flight.
    var write: (id: SchedulerState.WriteID, writes: [SchedulerState.StoreWrite])?
    /// The batch of calls being sent.
    var batch: (id: SchedulerState.CallBatchID, calls: [SchedulerCall])?
    /// Every write asked for, every call asked to be sent, in order.
    var writes: [[SchedulerState.StoreWrite]] = []
    var calls: [SchedulerCall] = []
    var replies: [SchedulerState.CommandID: Result<SchedulerState.CommandResult, SchedulerError>] = [:]
    var settled: [SchedulerState.WaiterID] = []
    var published: [MarathonEvent] = []
    var logs: [SchedulerState.LogRecord] = []
    private var nextCommand: UInt64 = 0

    init(configuration: SchedulerState.Configuration = .init(), seed: UInt64 = 1) {
        self.state = SchedulerState(configuration: configuration, ids: UUIDGenerator(SeededGenerator(seed: seed)))
    }

    /// Hands an event to the machine and keeps what it asks for.
    @discardableResult
    mutating func handle(_ event: SchedulerState.Event) -> [SchedulerState.Action] {
        let actions = self.state.handle(event, now: self.now)
        for action in actions {
            switch action {
            case .persist(let id, let writes):
                precondition(self.write == nil, "two writes in flight")
                self.write = (id, writes)
                self.writes.append(writes)
            case .send(let id, let calls):
                precondition(self.batch == nil, "two batches in flight")
                self.batch = (id, calls)
                self.calls += calls
            case .publish(let event): self.published.append(event)
            case .reply(let id, let result): self.replies[id] = result
            case .settled(let id): self.settled.append(id)
            case .log(let record): self.logs.append(record)
            }
        }
        return actions
    }

    /// Sends an API command.
    @discardableResult
    mutating func command(_ command: SchedulerState.Command) -> SchedulerState.CommandID {
        let id = SchedulerState.CommandID(self.nextCommand)
        self.nextCommand += 1
        self.handle(.command(id, command))
        return id
    }

    /// Finishes the write in flight.
    @discardableResult
    mutating func finishWrite(failing: Bool = false) -> [SchedulerState.Action] {
        guard let write = self.write else { return [] }
        self.write = nil
        let outcome: SchedulerState.WriteOutcome =
            failing ? .failed(SchedulerState.StoreFailure(Outage())) : .succeeded
        return self.handle(.writeFinished(write.id, outcome))
    }

    /// Finishes the batch of calls being sent.
    @discardableResult
    mutating func finishCalls(failures: [String] = []) -> [SchedulerState.Action] {
        guard let batch = self.batch else { return [] }
        self.batch = nil
        return self.handle(.callsFinished(batch.id, failures: failures))
    }

    /// Finishes writes and calls (all succeeding) until nothing is in flight.
    mutating func settle() {
        while self.write != nil || self.batch != nil {
            if self.write != nil { self.finishWrite() } else { self.finishCalls() }
        }
    }

    /// Subscribes with framework id `fw` and settles.
    mutating func subscribe() {
        self.handle(.connection(.subscribed("fw")))
        self.settle()
    }

    /// Creates an app and settles; returns it as stored.
    @discardableResult
    mutating func createApp(_ app: AppDefinition) -> AppDefinition {
        let id = self.command(.createApp(app))
        self.settle()
        guard case .success(.app(let stored, _, _)) = self.replies[id] else {
            fatalError("not created: \(String(describing: self.replies[id]))")
        }
        return stored
    }

    /// Delivers offers and settles; returns the tasks launched.
    @discardableResult
    mutating func offer(_ offers: [Offer]) -> [TaskInfo] {
        let before = self.calls.count
        self.handle(.connection(.event(.offers(offers))))
        self.settle()
        return self.calls[before...].filter { $0.type == .accept }
            .flatMap { $0.accept?.operations ?? [] }.flatMap { $0.launch?.taskInfos ?? [] }
    }

    /// Delivers a status update and settles.
    mutating func update(_ task: TaskID, _ state: TaskState, uuid: String? = nil, healthy: Bool? = nil) {
        self.handle(
            .connection(
                .event(
                    .update(
                        TaskStatus(
                            taskId: task,
                            state: state,
                            agentId: "a1",
                            uuid: uuid,
                            healthy: healthy
                        )
                    )
                )
            )
        )
        self.settle()
    }

    /// Moves time forward and ticks.
    mutating func advance(by duration: Duration) {
        self.now.uptime += duration
        self.now.date += duration.seconds
        self.handle(.tick)
    }

    /// The calls of one type asked to be sent so far.
    func calls(_ type: SchedulerCall.CallType) -> [SchedulerCall] { self.calls.filter { $0.type == type } }

    struct Outage: Error {}
}
