// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RegattaCore
import RegattaScheduler
import Testing

/// `HTTPMasterConnection` given a master that does not lead: it follows the `307` to the leader, subscribes there
/// and sends its calls there.
@Suite struct MasterConnectionRedirectTests {
    /// What the fake leading master received.
    final class Received: Sendable {
        let calls = Locked<[(type: String, streamID: String?)]>([])
        let open = Locked(true)
    }

    /// A master that answers SUBSCRIBE with a RecordIO stream holding SUBSCRIBED, and every other call with 202.
    static func leader(_ received: Received) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/scheduler") { request, _ in
            let body = request.body
            let data = try await body.collect(upTo: 1 << 20)
            let call = try MesosJSON.decode(SchedulerCall.self, from: Data(data.readableBytesView))
            received.calls.withLock {
                $0.append((call.type.rawValue, request.headers[HTTPField.Name("Mesos-Stream-Id")!]))
            }
            guard call.type == .subscribe else { return Response(status: .accepted) }
            let event = SchedulerEvent.subscribed(
                .init(frameworkId: call.frameworkId ?? FrameworkID("fw-new"), heartbeatIntervalSeconds: 15)
            )
            let record = RecordIO.encode(Array(try MesosJSON.encode(event)))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", HTTPField.Name("Mesos-Stream-Id")!: "stream-1"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: record))
                    while received.open.value {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        return router
    }

    /// A master that does not lead: every scheduler call gets `307 Location: //127.0.0.1:<leader>/api/v1/scheduler`.
    static func follower(leaderPort: Int) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/scheduler") { _, _ in
            Response(
                status: .temporaryRedirect,
                headers: [.location: "//127.0.0.1:\(leaderPort)/api/v1/scheduler"]
            )
        }
        return router
    }

    @Test func followsTheRedirectToTheLeaderAndSendsCallsThere() async throws {
        let received = Received()
        try await SchedulerRoleResponderTests.serve(Self.leader(received).buildResponder()) { leaderPort in
            try await SchedulerRoleResponderTests.serve(Self.follower(leaderPort: leaderPort).buildResponder()) {
                followerPort in
                // Given: a connection to the master that does not lead, with a stored framework id
                let connection = HTTPMasterConnection(
                    master: "127.0.0.1:\(followerPort)",
                    logger: SchedulerRoleResponderTests.logger
                )
                let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
                let running = Task {
                    try await connection.run(
                        frameworkInfo: { FrameworkInfo(user: "root", name: "marathon", id: FrameworkID("fw-1")) },
                        events: continuation
                    )
                }

                // When
                var subscribed: FrameworkID?
                for await event in events {
                    if case .subscribed(let id) = event {
                        subscribed = id
                        break
                    }
                }
                var reconcile = SchedulerCall(frameworkId: nil, type: .reconcile)
                reconcile.reconcile = .init(tasks: [])
                try await connection.send(reconcile)

                // Then: subscribed with the same framework id at the leader, and the call went there on its stream
                #expect(subscribed == FrameworkID("fw-1"))
                let calls = received.calls.value
                #expect(calls.map(\.type) == ["SUBSCRIBE", "RECONCILE"])
                #expect(calls.last?.streamID == "stream-1")

                received.open.withLock { $0 = false }
                running.cancel()
                _ = await running.result
            }
        }
    }
}
