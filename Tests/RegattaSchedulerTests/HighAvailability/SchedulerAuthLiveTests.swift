// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RegattaCore
import RegattaScheduler
import Testing

/// Authentication on real sockets: the event stream, a follower in front of a leader, and the scheduler's own link to
/// the master (a loopback fake master that records what it was sent).
@Suite struct SchedulerAuthLiveTests {
    static let logger = SchedulerRoleResponderTests.logger

    static func authentication() throws -> MarathonAuthentication {
        try MarathonAuthenticationTests.authentication()
    }

    static var admin: String { MarathonAuthenticationTests.basic("admin", MarathonAuthenticationTests.adminPassword) }
    static var viewer: String {
        MarathonAuthenticationTests.basic("viewer", MarathonAuthenticationTests.viewerPassword)
    }

    // MARK: - /v2/events

    @Test func theEventStreamRefusesAnonymousCallersAndServesUsers() async throws {
        try await APIHarness.with(authentication: try Self.authentication()) { harness in
            // When an anonymous client and a client with a wrong password ask for the stream
            let anonymous = try await SchedulerRoleResponderTests.request(
                .GET,
                "\(harness.base)/v2/events",
                headers: [("Accept", "text/event-stream")]
            )
            let wrong = try await SchedulerRoleResponderTests.request(
                .GET,
                "\(harness.base)/v2/events",
                headers: [
                    ("Accept", "text/event-stream"),
                    ("Authorization", MarathonAuthenticationTests.basic("admin", "wrong")),
                ]
            )
            // Then both are refused before any event, and nobody was attached
            #expect(anonymous.status == 401)
            #expect(anonymous.headers.first(name: "WWW-Authenticate") == #"Basic realm="Mesosphere""#)
            #expect(anonymous.json.keys.sorted() == ["message"])
            #expect(wrong.status == 401)
            #expect(harness.bus.subscriberCount == 0)

            // When a read-only user asks for it
            var request = HTTPClientRequest(url: "\(harness.base)/v2/events")
            request.headers.add(name: "Accept", value: "text/event-stream")
            request.headers.add(name: "Authorization", value: Self.viewer)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            // Then the stream opens with Marathon's first event
            #expect(response.status == .ok)
            var body = response.body.makeAsyncIterator()
            let first = try await body.next().map { String(buffer: $0) } ?? ""
            #expect(first.contains("event: event_stream_attached"))
        }
    }

    // MARK: - A follower

    /// Answers every request with the `Authorization` header it received.
    static let echo = CallbackResponder<BasicRequestContext> { request, _ in
        let object: [String: Any] = [
            "authorization": request.headers[.authorization] ?? "", "target": request.head.path ?? "",
        ]
        return Response(
            status: .accepted,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
        )
    }

    @Test func aFollowerAuthenticatesCallersItselfAndForwardsTheirCredentialsToTheLeader() async throws {
        try await SchedulerRoleResponderTests.serve(Self.echo) { leaderPort in
            let follower = SchedulerRoleResponder(
                ownAddress: "127.0.0.1:9990",
                authentication: try Self.authentication(),
                logger: Self.logger
            )
            follower.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: leaderPort))
            try await SchedulerRoleResponderTests.serve(follower) { port in
                let base = "http://127.0.0.1:\(port)"
                // When callers without valid credentials call the follower
                for (authorization, status) in [
                    (nil, 401), (MarathonAuthenticationTests.basic("admin", "wrong"), 401), (Self.viewer, 403),
                ] as [(String?, Int)] {
                    let headers = authorization.map { [("Authorization", $0)] } ?? []
                    let write = try await SchedulerRoleResponderTests.request(
                        .POST,
                        "\(base)/v2/apps",
                        body: "{}",
                        headers: headers
                    )
                    // Then the follower answers; nothing reached the leader (the echo answers 202)
                    #expect(write.status == status)
                    #expect(write.json.keys.sorted() == ["message"])
                    #expect(
                        write.headers.first(name: "WWW-Authenticate")
                            == (status == 401 ? #"Basic realm="Mesosphere""# : nil)
                    )
                }
                for path in ["/v2/leader", "/v2/events", "/v2/apps"] {
                    let anonymous = try await SchedulerRoleResponderTests.request(.GET, "\(base)\(path)")
                    #expect(anonymous.status == 401, "\(path)")
                }
                let ping = try await SchedulerRoleResponderTests.request(.GET, "\(base)/ping")
                #expect(ping.status == 200)

                // When a read-write and a read-only user call it
                let write = try await SchedulerRoleResponderTests.request(
                    .POST,
                    "\(base)/v2/apps",
                    body: "{}",
                    headers: [("Authorization", Self.admin)]
                )
                let read = try await SchedulerRoleResponderTests.request(
                    .GET,
                    "\(base)/v2/apps",
                    headers: [("Authorization", Self.viewer)]
                )
                let events = try await SchedulerRoleResponderTests.request(
                    .GET,
                    "\(base)/v2/events",
                    headers: [("Authorization", Self.viewer)]
                )
                // Then the calls were proxied with the caller's own credentials; the stream is redirected
                #expect(write.status == 202)
                #expect(write.json["authorization"] as? String == Self.admin)
                #expect(read.status == 202)
                #expect(read.json["authorization"] as? String == Self.viewer)
                #expect(events.status == 307)
                #expect(events.headers.first(name: "Location") == "http://127.0.0.1:\(leaderPort)/v2/events")
            }
        }
    }

    @Test func aFollowerCreatesAnAppOnALeaderThatRequiresCredentials() async throws {
        try await APIHarness.with(authentication: try Self.authentication()) { leader in
            let leaderPort = Int(leader.base.split(separator: ":").last!)!
            let follower = SchedulerRoleResponder(
                ownAddress: "127.0.0.1:9991",
                authentication: try Self.authentication(),
                logger: Self.logger
            )
            follower.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: leaderPort))
            try await SchedulerRoleResponderTests.serve(follower) { port in
                // When
                let created = try await SchedulerRoleResponderTests.request(
                    .POST,
                    "http://127.0.0.1:\(port)/v2/apps",
                    body: #"{"id":"/proxied","cmd":"sleep 100","cpus":0.1,"mem":16}"#,
                    headers: [("Content-Type", "application/json"), ("Authorization", "Bearer ops-pw")]
                )
                // Then
                #expect(created.status == 201)
                #expect(await leader.scheduler.state.apps["/proxied"] != nil)
            }
        }
    }

    // MARK: - The link to the master

    /// What a fake master received: each call's type, `Authorization` header and SUBSCRIBE's principal.
    final class Received: Sendable {
        struct Call: Sendable {
            var type: String
            var authorization: String?
            var principal: String?
        }
        let calls = Locked<[Call]>([])
        let open = Locked(true)
    }

    /// A master that records every call, answers SUBSCRIBE with SUBSCRIBED (stream held open) and calls with 202.
    static func master(_ received: Received) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/v1/scheduler") { request, _ in
            let body = request.body
            let data = try await body.collect(upTo: 1 << 20)
            let call = try MesosJSON.decode(SchedulerCall.self, from: Data(data.readableBytesView))
            received.calls.withLock {
                $0.append(
                    .init(
                        type: call.type.rawValue,
                        authorization: request.headers[.authorization],
                        principal: call.subscribe?.frameworkInfo.principal
                    )
                )
            }
            guard call.type == .subscribe else { return Response(status: .accepted) }
            let event = SchedulerEvent.subscribed(.init(frameworkId: FrameworkID("fw-1"), heartbeatIntervalSeconds: 15))
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

    @Test func theFrameworkSubscribesWithItsPrincipalAndEveryCallCarriesTheCredential() async throws {
        let received = Received()
        try await SchedulerRoleResponderTests.serve(Self.master(received).buildResponder()) { port in
            // Given a connection with a credential
            let credential = try Credential(principal: "marathon-p", secret: "s3cret")
            let connection = MasterConnections.make(
                master: "127.0.0.1:\(port)",
                credential: credential,
                logger: Self.logger
            )
            let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
            let running = Task {
                try await connection.run(
                    frameworkInfo: { FrameworkInfo(user: "root", name: "marathon", id: nil) },
                    events: continuation
                )
            }
            // When it subscribes and sends calls
            for await event in events {
                if case .subscribed = event { break }
            }
            var reconcile = SchedulerCall(frameworkId: nil, type: .reconcile)
            reconcile.reconcile = .init(tasks: [])
            try await connection.send(reconcile)
            try await connection.send(SchedulerCall(frameworkId: nil, type: .revive))

            // Then every request carried Basic marathon-p:s3cret, and SUBSCRIBE named the principal
            let calls = received.calls.value
            #expect(calls.map(\.type) == ["SUBSCRIBE", "RECONCILE", "REVIVE"])
            #expect(calls.allSatisfy { $0.authorization == credential.basicAuthorization })
            #expect(credential.basicAuthorization == "Basic " + Data("marathon-p:s3cret".utf8).base64EncodedString())
            #expect(calls.first?.principal == "marathon-p")

            received.open.withLock { $0 = false }
            running.cancel()
            _ = await running.result
        }
    }

    @Test func withoutACredentialNothingIsPresented() async throws {
        let received = Received()
        try await SchedulerRoleResponderTests.serve(Self.master(received).buildResponder()) { port in
            let connection = MasterConnections.make(master: "127.0.0.1:\(port)", logger: Self.logger)
            let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
            let running = Task {
                try await connection.run(
                    frameworkInfo: { FrameworkInfo(user: "root", name: "marathon", id: nil) },
                    events: continuation
                )
            }
            for await event in events {
                if case .subscribed = event { break }
            }
            try await connection.send(SchedulerCall(frameworkId: nil, type: .revive))
            let calls = received.calls.value
            #expect(calls.map(\.type) == ["SUBSCRIBE", "REVIVE"])
            #expect(calls.allSatisfy { $0.authorization == nil && $0.principal == nil })
            received.open.withLock { $0 = false }
            running.cancel()
            _ = await running.result
        }
    }

    @Test func theCredentialIsNotSentAcrossARedirectToAnotherMaster() async throws {
        let leaderReceived = Received()
        let followerCalls = Locked<[String?]>([])
        try await SchedulerRoleResponderTests.serve(Self.master(leaderReceived).buildResponder()) { leaderPort in
            // A master that does not lead: it records the Authorization header and redirects to the leader.
            let follower = Router()
            follower.post("/api/v1/scheduler") { request, _ in
                followerCalls.withLock { $0.append(request.headers[.authorization]) }
                return Response(
                    status: .temporaryRedirect,
                    headers: [.location: "//127.0.0.1:\(leaderPort)/api/v1/scheduler"]
                )
            }
            try await SchedulerRoleResponderTests.serve(follower.buildResponder()) { followerPort in
                // Given a connection with a credential to the master that does not lead
                let credential = try Credential(principal: "marathon-p", secret: "s3cret")
                let connection = MasterConnections.make(
                    master: "127.0.0.1:\(followerPort)",
                    credential: credential,
                    logger: Self.logger
                )
                let (_, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
                let running = Task {
                    try await connection.run(
                        frameworkInfo: { FrameworkInfo(user: "root", name: "marathon", id: nil) },
                        events: continuation
                    )
                }
                // When it has been redirected and tried the same master again (the loop is sequential, so a
                // redirect it followed would have reached the leader before the second attempt)
                let deadline = ContinuousClock.now + .seconds(30)
                while followerCalls.value.count < 2 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                running.cancel()
                _ = await running.result
                // Then the credential went only to the master it was given for
                #expect(followerCalls.value.count >= 2)
                #expect(followerCalls.value.allSatisfy { $0 == credential.basicAuthorization })
                #expect(leaderReceived.calls.value.isEmpty)
                leaderReceived.open.withLock { $0 = false }
            }
        }
    }
}
