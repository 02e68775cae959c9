// SPDX-License-Identifier: Apache-2.0
//
// A minimal Mesos framework that uses only the public v1 scheduler HTTP API of a Regatta (or Mesos) master:
// SUBSCRIBE, launch N command tasks from offers, ACKNOWLEDGE every update, RECONCILE, then TEARDOWN.
//
//   swift run hello-framework --master 127.0.0.1:5050 --tasks 3 --command 'echo hi; sleep 2'
import AsyncHTTPClient
import Foundation
import NIOCore
import RegattaCore

@main
struct HelloFramework {
    static func main() async throws {
        var master = "127.0.0.1:5050"
        var taskCount = 3
        var command = "echo hello from $MESOS_TASK_ID; sleep 2"
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--master": master = arguments.next() ?? master
            case "--tasks": taskCount = Int(arguments.next() ?? "") ?? taskCount
            case "--command": command = arguments.next() ?? command
            default:
                FileHandle.standardError.write(
                    Data("usage: hello-framework [--master host:port] [--tasks N] [--command CMD]\n".utf8)
                )
                exit(2)
            }
        }
        let framework = Framework(endpoint: "http://\(master)/api/v1/scheduler", taskCount: taskCount, command: command)
        let ok = try await framework.run()
        exit(ok ? 0 : 1)
    }
}

/// The framework's state; all of it is driven by the event stream.
actor Framework {
    let endpoint: String
    let taskCount: Int
    let command: String
    var frameworkID: FrameworkID?
    var streamID: String?
    var launched = 0
    var finished: [TaskID: TaskState] = [:]

    init(endpoint: String, taskCount: Int, command: String) {
        self.endpoint = endpoint
        self.taskCount = taskCount
        self.command = command
    }

    /// Subscribes and handles events until every task has ended; returns whether all finished cleanly.
    func run() async throws -> Bool {
        var call = SchedulerCall(frameworkId: nil, type: .subscribe)
        call.subscribe = .init(frameworkInfo: FrameworkInfo(user: "root", name: "hello-framework", failoverTimeout: 0))
        var request = HTTPClientRequest(url: self.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard response.status == .ok, let streamID = response.headers.first(name: "Mesos-Stream-Id") else {
            print("SUBSCRIBE refused: \(response.status)")
            return false
        }
        self.streamID = streamID
        var decoder = RecordIODecoder()
        for try await chunk in response.body {
            for record in try decoder.feed(chunk.readableBytesView) {
                let event = try MesosJSON.decode(SchedulerEvent.self, from: Data(record))
                if try await self.handle(event) {
                    try await self.send(SchedulerCall(frameworkId: self.frameworkID, type: .teardown))
                    return self.finished.values.allSatisfy { $0 == .finished }
                }
            }
        }
        return false
    }

    /// Handles one event; returns true when the work is done.
    private func handle(_ event: SchedulerEvent) async throws -> Bool {
        switch event.type {
        case .subscribed:
            self.frameworkID = event.subscribed?.frameworkId
            print("subscribed as \(self.frameworkID?.value ?? "?")")
            // Ask for the state of all our tasks (none yet): implicit reconciliation.
            var reconcile = SchedulerCall(frameworkId: self.frameworkID, type: .reconcile)
            reconcile.reconcile = .init(tasks: [])
            try await self.send(reconcile)
        case .offers:
            for offer in event.offers?.offers ?? [] {
                try await self.use(offer)
            }
        case .update:
            guard let status = event.update?.status else { break }
            print("task \(status.taskId) is \(status.state.rawValue)\(status.message.map { ": \($0)" } ?? "")")
            if let uuid = status.uuid, let agent = status.agentId {
                var ack = SchedulerCall(frameworkId: self.frameworkID, type: .acknowledge)
                ack.acknowledge = .init(agentId: agent, taskId: status.taskId, uuid: uuid)
                try await self.send(ack)
            }
            if status.state.isTerminal { self.finished[status.taskId] = status.state }
            return self.finished.count == self.taskCount
        case .error:
            print("master error: \(event.error?.message ?? "")")
            return true
        default:
            break
        }
        return false
    }

    /// Launches as many tasks as fit in the offer (0.1 cpus, 32 MB each), declines it otherwise.
    private func use(_ offer: Offer) async throws {
        var available = offer.bag
        var tasks: [TaskInfo] = []
        var need = Resources()
        try need.add(.scalar("cpus", 0.1))
        try need.add(.scalar("mem", 32))
        while self.launched < self.taskCount && available.contains(need) {
            self.launched += 1
            tasks.append(
                TaskInfo(
                    name: "hello-\(self.launched)",
                    taskId: TaskID("hello-\(self.launched)"),
                    agentId: offer.agentId,
                    resources: need,
                    command: .shell(self.command)
                )
            )
            available -= need
        }
        if tasks.isEmpty {
            var decline = SchedulerCall(frameworkId: self.frameworkID, type: .decline)
            decline.decline = .init(offerIds: [offer.id], filters: Filters(refuseSeconds: 30))
            try await self.send(decline)
            return
        }
        var accept = SchedulerCall(frameworkId: self.frameworkID, type: .accept)
        accept.accept = .init(offerIds: [offer.id], operations: [.launch(tasks)], filters: Filters(refuseSeconds: 30))
        try await self.send(accept)
        print("launched \(tasks.map(\.taskId.value)) on \(offer.hostname)")
    }

    private func send(_ call: SchedulerCall) async throws {
        var request = HTTPClientRequest(url: self.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Mesos-Stream-Id", value: self.streamID ?? "")
        request.body = .bytes(ByteBuffer(bytes: try MesosJSON.encode(call)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard response.status == .accepted else {
            let body = try await response.body.collect(upTo: 1 << 16)
            throw FrameworkError(
                message: "\(call.type.rawValue) answered \(response.status.code): \(String(buffer: body))"
            )
        }
    }
}

struct FrameworkError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}
