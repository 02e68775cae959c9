// SPDX-License-Identifier: Apache-2.0
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RegattaCore
import RegattaScheduler
import Testing

/// `HTTPMasterConnection.send` over its keep-alive call client: calls reach the master of the subscription, a
/// `307` from it (it stopped leading) is followed with the call's method and body, and refusals are errors.
@Suite struct MasterConnectionCallTests {
    /// A master that streams SUBSCRIBED on SUBSCRIBE and answers every other call with `status`, naming
    /// `location` when given.
    static func master(
        status: HTTPResponse.Status,
        location: String?,
        open: Locked<Bool>
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/scheduler") { request, _ in
            var request = request
            let data = try await request.collectBody(upTo: 1 << 20)
            let call = try MesosJSON.decode(SchedulerCall.self, from: Data(data.readableBytesView))
            guard call.type == .subscribe else {
                var headers = HTTPFields()
                if let location { headers[.location] = location }
                return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "no")))
            }
            let event = SchedulerEvent.subscribed(
                .init(frameworkId: call.frameworkId ?? FrameworkID("fw-new"), heartbeatIntervalSeconds: 15)
            )
            let record = RecordIO.encode(Array(try MesosJSON.encode(event)))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", HTTPField.Name("Mesos-Stream-Id")!: "stream-a"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: record))
                    while open.value { try await Task.sleep(for: .milliseconds(50)) }
                    try await writer.finish(nil)
                }
            )
        }
        return router
    }

    /// Subscribes to the master at `port`, runs `body`, then ends the subscription.
    static func subscribed(
        port: Int,
        open: Locked<Bool>,
        _ body: (HTTPMasterConnection) async throws -> Void
    ) async throws {
        let connection = HTTPMasterConnection(master: "127.0.0.1:\(port)", logger: SchedulerRoleResponderTests.logger)
        let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        let running = Task {
            try await connection.run(
                frameworkInfo: { FrameworkInfo(user: "root", name: "marathon", id: FrameworkID("fw-1")) },
                events: continuation
            )
        }
        for await event in events {
            if case .subscribed = event { break }
        }
        do {
            try await body(connection)
        } catch {
            open.withLock { $0 = false }
            running.cancel()
            throw error
        }
        open.withLock { $0 = false }
        running.cancel()
        _ = await running.result
    }

    static func reconcile() -> SchedulerCall {
        var call = SchedulerCall(frameworkId: nil, type: .reconcile)
        call.reconcile = .init(tasks: [])
        return call
    }

    @Test func aCallAnsweredWithARedirectIsSentToTheLeaderItNames() async throws {
        let received = MasterConnectionRedirectTests.Received()
        try await SchedulerRoleResponderTests.serve(MasterConnectionRedirectTests.leader(received).buildResponder()) {
            leaderPort in
            // Given a subscription with a master that has stopped leading and redirects calls to the leader
            let open = Locked(true)
            let former = Self.master(
                status: .temporaryRedirect,
                location: "//127.0.0.1:\(leaderPort)/api/v1/scheduler",
                open: open
            )
            try await SchedulerRoleResponderTests.serve(former.buildResponder()) { formerPort in
                try await Self.subscribed(port: formerPort, open: open) { connection in
                    // When calls are sent
                    try await connection.send(Self.reconcile())
                    try await connection.send(Self.reconcile())
                }
            }

            // Then they reached the leader as POSTs with the subscription's stream id and framework id
            let calls = received.calls.value
            #expect(calls.map(\.type) == ["RECONCILE", "RECONCILE"])
            #expect(calls.allSatisfy { $0.streamID == "stream-a" })
            received.open.withLock { $0 = false }
        }
    }

    @Test func aRefusedCallThrowsWithTheMastersAnswer() async throws {
        let open = Locked(true)
        try await SchedulerRoleResponderTests.serve(
            Self.master(status: .badRequest, location: nil, open: open).buildResponder()
        ) { port in
            try await Self.subscribed(port: port, open: open) { connection in
                let error = await #expect(throws: SchedulerError.self) { try await connection.send(Self.reconcile()) }
                #expect(error?.message.contains("RECONCILE with 400: no") == true)
            }
        }
    }

    @Test func manyConcurrentCallsAllReachTheMaster() async throws {
        let received = MasterConnectionRedirectTests.Received()
        try await SchedulerRoleResponderTests.serve(MasterConnectionRedirectTests.leader(received).buildResponder()) {
            port in
            try await Self.subscribed(port: port, open: received.open) { connection in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<200 { group.addTask { try await connection.send(Self.reconcile()) } }
                    try await group.waitForAll()
                }
            }
            #expect(received.calls.value.count { $0.type == "RECONCILE" } == 200)
        }
    }

    @Test func hostAndPortOfAMasterURL() {
        #expect(
            HTTPMasterConnection.hostPort(ofHTTPBase: "http://10.0.0.1:5050").map { "\($0) \($1)" } == "10.0.0.1 5050"
        )
        #expect(HTTPMasterConnection.hostPort(ofHTTPBase: "http://master").map { "\($0) \($1)" } == "master 80")
        #expect(HTTPMasterConnection.hostPort(ofHTTPBase: "http://[::1]:5050").map { "\($0) \($1)" } == "::1 5050")
        #expect(HTTPMasterConnection.hostPort(ofHTTPBase: "https://master:5050") == nil)
        #expect(HTTPMasterConnection.hostPort(ofHTTPBase: "http://master:x") == nil)
    }
}
