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
import RegattaTestKit
import ServiceLifecycle
import Testing

/// A follower's HTTP front (``SchedulerRoleResponder``) on a real server, in front of a real leader: the Marathon
/// routes over a scheduler, or an echo server that reports what it received.
@Suite struct SchedulerRoleResponderTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    /// A client that shows redirects instead of following them.
    static let client = HTTPClient(configuration: .init(redirectConfiguration: .disallow))

    /// Serves `responder` on a free port of 127.0.0.1 while `body` runs.
    static func serve<Responder: HTTPResponder>(
        _ responder: Responder,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws
    where Responder.Context: RequestContext, Responder.Context.Source == ApplicationRequestContextSource {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Self.logger
        )
        let group = ServiceGroup(services: [app], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Answers every request with what it received, as JSON, and `X-Marathon-Leader: http://echo-leader:1`.
    static let echo = CallbackResponder<BasicRequestContext> { request, _ in
        var body = request.body
        let received = try await body.collect(upTo: 1 << 20)
        let object: [String: Any] = [
            "method": request.method.rawValue, "target": request.head.path ?? "",
            "via": request.headers[values: .marathonVia], "custom": request.headers[HTTPField.Name("X-Custom")!] ?? "",
            "body": String(buffer: received),
        ]
        let data = try JSONSerialization.data(withJSONObject: object)
        return Response(
            status: .accepted,
            headers: [.contentType: "application/json", .marathonLeader: "http://echo-leader:1"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func request(
        _ method: HTTPMethod,
        _ url: String,
        body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, json: [String: Any], headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await Self.client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any]
        return (Int(response.status.code), json ?? [:], response.headers)
    }

    @Test func followerProxiesMethodPathQueryHeadersAndBodyWithVia() async throws {
        try await Self.serve(Self.echo) { leaderPort in
            let follower = SchedulerRoleResponder(ownAddress: "127.0.0.1:9999", logger: Self.logger)
            follower.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: leaderPort))
            try await Self.serve(follower) { port in
                // When
                let response = try await Self.request(
                    .PUT,
                    "http://127.0.0.1:\(port)/v2/apps/web?force=true&x=a%20b",
                    body: #"{"instances":3}"#,
                    headers: [("X-Custom", "kept"), ("Content-Type", "application/json")]
                )

                // Then: the leader got the call as sent, plus Via; its answer and leader header came back
                #expect(response.status == 202)
                #expect(response.json["method"] as? String == "PUT")
                #expect(response.json["target"] as? String == "/v2/apps/web?force=true&x=a%20b")
                #expect(response.json["body"] as? String == #"{"instances":3}"#)
                #expect(response.json["custom"] as? String == "kept")
                #expect(response.json["via"] as? [String] == ["1.1 127.0.0.1:9999"])
                #expect(response.headers.first(name: "X-Marathon-Leader") == "http://echo-leader:1")
            }
        }
    }

    @Test func followerCreatesAnAppOnTheLeadingScheduler() async throws {
        try await APIHarness.with { leader in
            let leaderPort = Int(leader.base.split(separator: ":").last!)!
            let follower = SchedulerRoleResponder(ownAddress: "127.0.0.1:9998", logger: Self.logger)
            follower.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: leaderPort))
            try await Self.serve(follower) { port in
                let created = try await Self.request(
                    .POST,
                    "http://127.0.0.1:\(port)/v2/apps",
                    body: #"{"id":"/proxied","cmd":"sleep 100","cpus":0.1,"mem":16,"instances":2}"#,
                    headers: [("Content-Type", "application/json")]
                )
                #expect(created.status == 201)
                #expect(created.json["id"] as? String == "/proxied")
                #expect(created.headers.first(name: "X-Marathon-Leader") == "http://127.0.0.1:8080")
                #expect(await leader.scheduler.state.apps["/proxied"]?.instances == 2)

                let listed = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/apps/proxied")
                #expect(listed.status == 200)
                #expect((listed.json["app"] as? [String: Any])?["id"] as? String == "/proxied")
            }
        }
    }

    @Test func followerWithoutLeaderAnswers503AndNoLeader() async throws {
        let follower = SchedulerRoleResponder(
            ownAddress: "127.0.0.1:9997",
            leaderWait: .milliseconds(300),
            logger: Self.logger
        )
        try await Self.serve(follower) { port in
            let apps = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/apps")
            #expect(apps.status == 503)
            #expect((apps.json["message"] as? String)?.contains("leader") == true)

            let leader = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/leader")
            #expect(leader.status == 404)
            #expect(leader.json["message"] as? String == "There is no leader")

            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/ping")
            request.method = .GET
            let ping = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(ping.status == .ok)
            #expect(String(buffer: try await ping.body.collect(upTo: 100)) == "pong")
        }
    }

    @Test func followerWhoseLeaderIsOwnAddressWaitsThenAnswers503() async throws {
        // A stale election node of this very scheduler (a restarted process) is not a leader to proxy to.
        let follower = SchedulerRoleResponder(
            ownAddress: "127.0.0.1:9996",
            leaderWait: .milliseconds(300),
            logger: Self.logger
        )
        follower.setLeader(SchedulerLeaderInfo(id: "old-me", hostname: "127.0.0.1", port: 9996))
        try await Self.serve(follower) { port in
            let response = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/apps")
            #expect(response.status == 503)
        }
    }

    @Test func unreachableLeaderAnswers502() async throws {
        // Port 1 on loopback refuses connections.
        let follower = SchedulerRoleResponder(ownAddress: "127.0.0.1:9995", logger: Self.logger)
        follower.setLeader(SchedulerLeaderInfo(id: "gone", hostname: "127.0.0.1", port: 1))
        try await Self.serve(follower) { port in
            let response = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/apps")
            #expect(response.status == 502)
            #expect((response.json["message"] as? String)?.contains("127.0.0.1:1") == true)

            let leader = try await Self.request(.GET, "http://127.0.0.1:\(port)/v2/leader")
            #expect(leader.status == 200)
            #expect(leader.json["leader"] as? String == "127.0.0.1:1")
        }
    }

    @Test func proxyLoopAnswers502() async throws {
        let follower = SchedulerRoleResponder(ownAddress: "127.0.0.1:9994", logger: Self.logger)
        follower.setLeader(SchedulerLeaderInfo(id: "other", hostname: "127.0.0.1", port: 9993))
        try await Self.serve(follower) { port in
            let response = try await Self.request(
                .GET,
                "http://127.0.0.1:\(port)/v2/apps",
                headers: [("X-Marathon-Via", "1.1 127.0.0.1:9994")]
            )
            #expect(response.status == 502)
            #expect((response.json["message"] as? String)?.contains("loop") == true)
        }
    }

    @Test func followerRedirectsEventsToTheLeader() async throws {
        let follower = SchedulerRoleResponder(ownAddress: "127.0.0.1:9992", logger: Self.logger)
        follower.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: 8088))
        try await Self.serve(follower) { port in
            let response = try await Self.request(
                .GET,
                "http://127.0.0.1:\(port)/v2/events?event_type=deployment_info",
                headers: [("Accept", "text/event-stream")]
            )
            #expect(response.status == 307)
            #expect(
                response.headers.first(name: "Location") == "http://127.0.0.1:8088/v2/events?event_type=deployment_info"
            )
        }
    }

    @Test func leadingServesTheTermAndFollowingProxiesAgain() async throws {
        try await Self.serve(Self.echo) { leaderPort in
            let responder = SchedulerRoleResponder(ownAddress: "127.0.0.1:9991", logger: Self.logger)
            responder.setLeader(SchedulerLeaderInfo(id: "leader", hostname: "127.0.0.1", port: leaderPort))
            let term = CallbackResponder<MarathonRequestContext> { _, _ in
                Response(status: .ok, headers: [.marathonLeader: "http://127.0.0.1:9991"])
            }
            try await Self.serve(responder) { port in
                responder.lead(term)
                #expect(responder.isLeading)
                let led = try await Self.request(.DELETE, "http://127.0.0.1:\(port)/v2/leader")
                #expect(led.status == 200)
                #expect(led.headers.first(name: "X-Marathon-Leader") == "http://127.0.0.1:9991")

                responder.follow()
                let proxied = try await Self.request(.DELETE, "http://127.0.0.1:\(port)/v2/leader")
                #expect(proxied.status == 202)
                #expect(proxied.json["method"] as? String == "DELETE")
                #expect(proxied.json["via"] as? [String] == ["1.1 127.0.0.1:9991"])
            }
        }
    }
}
