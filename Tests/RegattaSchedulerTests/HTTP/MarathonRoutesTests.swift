// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import ServiceLifecycle
import Testing

/// The Marathon routes served by a real Hummingbird server on 127.0.0.1 (a free port) over a scheduler with an
/// in-memory store and a recording master connection: for what needs the server (event streams, graceful
/// shutdown). The rest of the routes is tested in memory, in `MarathonRouterTests`.
struct APIHarness {
    let bus: EventBus
    let scheduler: ServiceScheduler
    let master: FakeMasterConnection
    let base: String
    let group: ServiceGroup

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    struct Timeout: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "the test body did not finish within \(self.limit)" }
    }

    /// Runs `body` against a started server (cancelling it after `timeout`), then shuts the server down gracefully.
    static func with(
        heartbeat: Duration = .seconds(15),
        timeout: Duration = .seconds(30),
        authentication: MarathonAuthentication = .open,
        _ body: @escaping @Sendable (APIHarness) async throws -> Void
    ) async throws {
        let bus = EventBus()
        let master = FakeMasterConnection()
        let clock = ManualClock()
        let scheduler = ServiceScheduler(
            configuration: .init(),
            store: InMemorySchedulerStore(),
            connection: master,
            logger: Self.logger,
            clock: clock,
            events: bus
        )
        try await scheduler.load()
        let router = Router(context: MarathonRequestContext.self)
        var configuration = MarathonRoutes.Configuration()
        configuration.eventStreamHeartbeat = heartbeat
        configuration.authentication = authentication
        MarathonRoutes(
            scheduler: scheduler,
            advertisedAddress: "127.0.0.1:8080",
            events: bus,
            configuration: configuration
        ).register(on: router)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Self.logger
        )
        let group = ServiceGroup(services: [scheduler, app], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await scheduler.handle(.subscribed("fw"))
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let harness = APIHarness(
                bus: bus,
                scheduler: scheduler,
                master: master,
                base: "http://127.0.0.1:\(port)",
                group: group
            )
            do {
                try await withThrowingTaskGroup(of: Bool.self) { race in
                    race.addTask {
                        try await body(harness)
                        return true
                    }
                    race.addTask {
                        try await Task.sleep(for: timeout)
                        return false
                    }
                    let finished = try await race.next() ?? false
                    race.cancelAll()
                    if !finished { throw Timeout(limit: timeout) }
                }
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func request(
        _ method: HTTPMethod,
        _ path: String,
        json: Any? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, json: Any?, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: self.base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let data = Data(body.readableBytesView)
        return (Int(response.status.code), try? JSONSerialization.jsonObject(with: data), response.headers)
    }

    /// Opens `/v2/events` (with the SSE `Accept` header).
    func events(query: String = "") async throws -> (HTTPClientResponse, EventStreamReader) {
        var request = HTTPClientRequest(url: self.base + "/v2/events" + query)
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        return (response, EventStreamReader(iterator: response.body.makeAsyncIterator()))
    }
}

/// Splits a `text/event-stream` body into frames.
struct EventStreamReader {
    var iterator: HTTPClientResponse.Body.AsyncIterator
    var buffer = ""

    /// The next frame's text (without the blank line ending it), or `nil` at the end of the stream.
    mutating func nextFrame() async throws -> String? {
        while true {
            if let range = self.buffer.range(of: "\n\n") {
                let frame = String(self.buffer[..<range.lowerBound])
                self.buffer.removeSubrange(..<range.upperBound)
                return frame
            }
            guard let chunk = try await self.iterator.next() else { return nil }
            self.buffer += String(buffer: chunk)
        }
    }

    /// The next event (comments skipped): its type and JSON payload.
    mutating func nextEvent() async throws -> (type: String, json: [String: Any])? {
        while let frame = try await self.nextFrame() {
            let lines = frame.split(separator: "\n")
            guard let type = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst("event: ".count) else {
                continue
            }
            let data = lines.filter { $0.hasPrefix("data: ") }.map { $0.dropFirst("data: ".count) }.joined(
                separator: "\n"
            )
            let json = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] ?? [:]
            return (String(type), json)
        }
        return nil
    }
}

/// Polls `condition` every 20 ms for up to `timeout`.
func waitUntil(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

@Suite(.serialized) struct MarathonRoutesTests {
    @Test func eventsRefuseClientsThatDoNotAcceptEventStreams() async throws {
        try await APIHarness.with { api in
            // When
            let response = try await api.request(.GET, "/v2/events", headers: [("Accept", "application/json")])
            // Then Marathon's 405, with the leader header every response carries
            #expect(response.status == 405)
            #expect((response.json as? [String: Any])?["message"] as? String != nil)
            #expect(response.headers.first(name: "X-Marathon-Leader") == "http://127.0.0.1:8080")
            #expect(api.bus.subscriberCount == 0)
        }
    }

    @Test func eventStreamDeliversAttachedAndFilteredApiEvents() async throws {
        try await APIHarness.with { api in
            // Given a client of api_post_event and event_stream_attached only
            let (response, reader) = try await api.events(
                query: "?event_type=api_post_event&event_type=event_stream_attached"
            )
            var events = reader
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            #expect(response.headers.first(name: "X-Marathon-Leader") == "http://127.0.0.1:8080")
            let attached = try #require(try await events.nextEvent())
            #expect(attached.type == "event_stream_attached")
            #expect(attached.json["eventType"] as? String == "event_stream_attached")
            #expect(attached.json["remoteAddress"] as? String == "127.0.0.1")
            #expect(attached.json["timestamp"] as? String != nil)
            // When an app is posted (which also starts a deployment: deployment_info is filtered out)
            let created = try await api.request(
                .POST,
                "/v2/apps",
                json: ["id": "/web", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16]
            )
            #expect(created.status == 201)
            // Then
            let posted = try #require(try await events.nextEvent())
            #expect(posted.type == "api_post_event")
            #expect(posted.json["clientIp"] as? String == "127.0.0.1")
            #expect(posted.json["uri"] as? String == "/v2/apps")
            #expect((posted.json["appDefinition"] as? [String: Any])?["id"] as? String == "/web")
            // When the app is patched (forced: no offers come here, so its deployment still runs)
            let patched = try await api.request(.PATCH, "/v2/apps/web?force=true", json: ["env": ["A": "1"]])
            #expect(patched.status == 200)
            // Then a second api_post_event follows
            let second = try #require(try await events.nextEvent())
            #expect(second.type == "api_post_event")
            #expect(second.json["uri"] as? String == "/v2/apps/web")
        }
    }

    @Test func heartbeatsNoticeAClientThatWentAway() async throws {
        try await APIHarness.with(heartbeat: .milliseconds(100)) { api in
            // Given a connected client that sees heartbeats
            let client = Task {
                let (_, reader) = try await api.events()
                var frames = reader
                var heartbeats = 0
                while let frame = try await frames.nextFrame() {
                    if frame == ": heartbeat" { heartbeats += 1 }
                    if heartbeats == 2 { break }
                }
                return heartbeats
            }
            let heartbeats = try await client.value
            #expect(heartbeats == 2)
            #expect(await waitUntil { api.bus.subscriberCount == 1 })
            // When the client is gone (its response was dropped), the next heartbeat write fails
            // Then the subscription is removed
            #expect(await waitUntil { api.bus.subscriberCount == 0 }, "the dead client was noticed")
        }
    }

    @Test func gracefulShutdownEndsOpenEventStreams() async throws {
        let started = ContinuousClock.now
        try await APIHarness.with { api in
            // Given an open stream
            let (_, reader) = try await api.events()
            var events = reader
            #expect(try await events.nextEvent()?.type == "event_stream_attached")
            // When the server shuts down gracefully
            await api.group.triggerGracefulShutdown()
            // Then the stream ends instead of holding the shutdown
            while try await events.nextFrame() != nil {}
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
