// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import Testing

/// A test framework speaking the Mesos v1 scheduler API over HTTP (through the same client the built-in
/// scheduler uses), recording every event so tests can wait for them.
final class V1Framework: @unchecked Sendable {
    let connection: HTTPMasterConnection
    let events = Locked<[SchedulerEvent]>([])
    let frameworkID = Locked<FrameworkID?>(nil)
    private var task: Task<Void, Never>?
    private let info: Locked<FrameworkInfo>

    init(
        master: String,
        name: String = "it-framework",
        failoverTimeout: Double = 0,
        id: FrameworkID? = nil,
        partitionAware: Bool = false
    ) {
        self.connection = HTTPMasterConnection(
            master: master,
            logger: Logger(label: "it", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        self.info = Locked(
            FrameworkInfo(
                user: "root",
                name: name,
                id: id,
                failoverTimeout: failoverTimeout,
                roles: ["*"],
                capabilities: partitionAware ? [.init(type: "PARTITION_AWARE")] : nil
            )
        )
    }

    /// Subscribes (and keeps re-subscribing with the same id) until `stop()`.
    func start() {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        let connection = self.connection
        let info = self.info
        let events = self.events
        let frameworkID = self.frameworkID
        // The test owns this task and cancels it in stop().
        self.task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await connection.run(frameworkInfo: { info.value }, events: continuation)
                    continuation.finish()
                }
                group.addTask {
                    for await event in stream {
                        switch event {
                        case .subscribed(let id):
                            frameworkID.withLock { $0 = id }
                            info.withLock { $0.id = id }
                        case .event(let event):
                            events.withLock { $0.append(event) }
                            // Acknowledge like a real framework: agents hold a task's next update until then.
                            if let status = event.update?.status, let uuid = status.uuid, let agent = status.agentId {
                                var ack = SchedulerCall(frameworkId: frameworkID.value, type: .acknowledge)
                                ack.acknowledge = .init(agentId: agent, taskId: status.taskId, uuid: uuid)
                                try? await connection.send(ack)
                            }
                        case .disconnected:
                            break
                        }
                    }
                }
            }
        }
    }

    /// Disconnects (the master starts the framework's failover timeout).
    func stop() async {
        self.task?.cancel()
        await self.task?.value
        self.task = nil
    }

    func send(_ call: SchedulerCall) async throws { try await self.connection.send(call) }

    var offers: [Offer] { self.events.value.compactMap(\.offers).flatMap(\.offers) }
    var rescinded: [OfferID] { self.events.value.compactMap(\.rescind?.offerId) }
    var updates: [TaskStatus] { self.events.value.compactMap(\.update?.status) }

    /// Waits for an offer not yet used and returns it.
    func nextOffer(excluding used: Set<OfferID> = [], timeout: Duration = .seconds(20)) async throws -> Offer {
        var found: Offer?
        try await eventually(timeout: timeout, "an offer") {
            found = self.offers.first { !used.contains($0.id) && !self.rescinded.contains($0.id) }
            return found != nil
        }
        return found!
    }

    func launch(_ taskID: String, on offer: Offer, command: String, cpus: Double = 0.1, mem: Double = 32) async throws {
        var resources = Resources()
        try resources.add(.scalar("cpus", cpus))
        try resources.add(.scalar("mem", mem))
        let task = TaskInfo(
            name: taskID,
            taskId: TaskID(taskID),
            agentId: offer.agentId,
            resources: resources,
            command: .shell(command)
        )
        var call = SchedulerCall(frameworkId: self.frameworkID.value, type: .accept)
        call.accept = .init(offerIds: [offer.id], operations: [.launch([task])], filters: Filters(refuseSeconds: 1))
        try await self.send(call)
    }

    func decline(_ offer: Offer, refuseSeconds: Double) async throws {
        var call = SchedulerCall(frameworkId: self.frameworkID.value, type: .decline)
        call.decline = .init(offerIds: [offer.id], filters: Filters(refuseSeconds: refuseSeconds))
        try await self.send(call)
    }

    func waitForState(_ task: String, _ state: TaskState, timeout: Duration = .seconds(30)) async throws {
        try await eventually(timeout: timeout, "\(task) reaches \(state.rawValue)") {
            self.updates.contains { $0.taskId.value == task && $0.state == state }
        }
    }
}
