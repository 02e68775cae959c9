// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import RegattaHTTP
import Testing

@Suite(.timeLimit(.minutes(1)))
struct HTTPCallClientTests {
    static let delayHeader = HTTPField.Name("X-Delay-Ms")!

    /// `POST /echo` answers 200 with the request's body after `X-Delay-Ms` milliseconds, counting requests;
    /// `POST /redirect` answers 307 to another master; `POST /large` answers 2,000 bytes.
    static func router(counting requests: Counter) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/echo") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            requests.increment()
            if let delay = request.headers[Self.delayHeader].flatMap({ Int($0) }), delay > 0 {
                try await Task.sleep(for: .milliseconds(delay))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: body))
        }
        router.post("/redirect") { _, _ in
            Response(status: .temporaryRedirect, headers: [.location: "//127.0.0.1:5999/api/v1/scheduler"])
        }
        router.post("/large") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "x"), count: 2000)))
        }
        return router
    }

    static func echo(_ id: Int, delayMilliseconds: Int = 0) -> HTTPCallRequest {
        var headers = HTTPHeaders()
        if delayMilliseconds > 0 { headers.add(name: "X-Delay-Ms", value: String(delayMilliseconds)) }
        return HTTPCallRequest(method: .POST, path: "/echo", headers: headers, body: ByteBuffer(string: String(id)))
    }

    static func client(
        port: Int,
        connections: Int = 4,
        depth: Int = 4,
        timeout: TimeAmount = .seconds(10)
    )
        -> HTTPCallClient
    {
        var configuration = HTTPCallClient.Configuration()
        configuration.connections = connections
        configuration.pipelineDepth = depth
        configuration.timeout = timeout
        configuration.maximumResponseBodyBytes = 1000
        return HTTPCallClient(host: "127.0.0.1", port: port, configuration: configuration, logger: TestServers.logger)
    }

    @Test func manyConcurrentCallsAreEachAnsweredWithTheirOwnResponse() async throws {
        let requests = Counter()
        try await TestServers.hummingbird(Self.router(counting: requests)) { port in
            // Given a client with 4 connections pipelining up to 4 calls each
            let client = Self.client(port: port)

            // When 600 callers send their id at once, some answered after a delay
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for id in 0..<600 {
                    group.addTask {
                        let response = try await client.execute(Self.echo(id, delayMilliseconds: id % 7 == 0 ? 5 : 0))
                        #expect(response.status == .ok)
                        return (id, response.bodyText)
                    }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }

            // Then every caller got its own id back, each request reached the server once, over at most 4
            // connections
            #expect(answers.count == 600)
            #expect(answers.allSatisfy { $0.value == String($0.key) })
            #expect(requests.value == 600)
            let statistics = await client.statistics()
            #expect(statistics.connectionsOpened <= 4)
            #expect(statistics.callsWritten == 600)
            #expect(statistics.responses == 600)
            await client.shutdown()
        }
    }

    @Test func hummingbirdAnswersPipelinedCallsInOrder() async throws {
        let requests = Counter()
        try await TestServers.hummingbird(Self.router(counting: requests)) { port in
            // Given one connection with up to 8 calls in flight
            let client = Self.client(port: port, connections: 1, depth: 8)

            // When 64 calls are sent at once and every 4th is answered 30 ms late (a server answering in the order
            // it finished would put later responses first; the client would then hand them to the wrong callers)
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for id in 0..<64 {
                    group.addTask {
                        (id, try await client.execute(Self.echo(id, delayMilliseconds: id % 4 == 0 ? 30 : 0)).bodyText)
                    }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }

            // Then calls were pipelined on the one connection and each caller got its own response
            #expect(answers.count == 64)
            #expect(answers.allSatisfy { $0.value == String($0.key) })
            let statistics = await client.statistics()
            #expect(statistics.connectionsOpened == 1)
            #expect(statistics.deepestPipeline > 1)
            #expect(requests.value == 64)
            await client.shutdown()
        }
    }

    @Test func aConnectionTheServerClosesWhileIdleIsReplaced() async throws {
        let requests = Counter()
        // Given a server that closes connections idle for 200 ms
        try await TestServers.hummingbird(Self.router(counting: requests), idleTimeout: .milliseconds(200)) { port in
            let client = Self.client(port: port, connections: 1, depth: 1)
            let first = try await client.execute(Self.echo(1))
            #expect(first.bodyText == "1")

            // When the next call comes after the server closed the first connection
            try await Task.sleep(for: .milliseconds(600))
            let second = try await client.execute(Self.echo(2))

            // Then it is answered on a new connection
            #expect(second.bodyText == "2")
            #expect(await client.statistics().connectionsOpened == 2)
            #expect(requests.value == 2)
            await client.shutdown()
        }
    }

    @Test func aServerDyingMidRequestFailsTheCallWithoutSendingItAgain() async throws {
        // Given a server that receives a request, then closes the connection without answering
        let server = try await DyingServer.start(closeAfter: .milliseconds(100))
        let client = Self.client(port: server.port, connections: 2, depth: 2)

        // When a POST is sent
        let error = await #expect(throws: HTTPCallError.self) { try await client.execute(Self.echo(7)) }

        // Then the caller sees the connection loss, marked as possibly received, and the server got it once
        #expect(error?.kind == .connectionLost)
        #expect(error?.mayHaveReachedServer == true)
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.requests.value == 1)
        #expect(await client.statistics().callsWritten == 1)
        await client.shutdown()
        await server.stop()
    }

    @Test func aCallPastItsDeadlineFailsAndTheNextCallIsAnswered() async throws {
        let requests = Counter()
        try await TestServers.hummingbird(Self.router(counting: requests)) { port in
            // Given a client whose calls have 200 ms
            let client = Self.client(port: port, connections: 1, depth: 4, timeout: .milliseconds(200))

            // When the server takes 1.5 s to answer
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPCallError.self) {
                try await client.execute(Self.echo(1, delayMilliseconds: 1500))
            }

            // Then the call fails at its deadline, and a later call is answered (on a new connection: the late
            // response could block it)
            #expect(error?.kind == .deadlineExceeded)
            #expect(error?.mayHaveReachedServer == true)
            #expect(ContinuousClock.now - started < .milliseconds(1000))
            let next = try await client.execute(Self.echo(2))
            #expect(next.bodyText == "2")
            #expect(requests.value == 2)
            await client.shutdown()
        }
    }

    @Test func redirectsAreReturnedWithTheirLocation() async throws {
        try await TestServers.hummingbird(Self.router(counting: Counter())) { port in
            let client = Self.client(port: port)
            let response = try await client.execute(HTTPCallRequest(path: "/redirect", body: ByteBuffer(string: "{}")))
            #expect(response.status == .temporaryRedirect)
            #expect(response.headers.first(name: "Location") == "//127.0.0.1:5999/api/v1/scheduler")
            await client.shutdown()
        }
    }

    @Test func aTooLargeResponseFailsItsCallOnly() async throws {
        try await TestServers.hummingbird(Self.router(counting: Counter())) { port in
            // Given a client accepting 1,000-byte bodies on one connection
            let client = Self.client(port: port, connections: 1, depth: 1)

            // When a response has 2,000 bytes
            let error = await #expect(throws: HTTPCallError.self) {
                try await client.execute(HTTPCallRequest(path: "/large"))
            }

            // Then that call fails and the connection goes on serving calls
            #expect(error?.kind == .responseTooLarge)
            let next = try await client.execute(Self.echo(3))
            #expect(next.bodyText == "3")
            #expect(await client.statistics().connectionsOpened == 1)
            await client.shutdown()
        }
    }

    @Test func anUnreachableServerFailsCallsAsNotSent() async throws {
        // Given a port nothing listens on (a server started and stopped)
        let server = try await DyingServer.start(closeAfter: .milliseconds(1))
        let port = server.port
        await server.stop()
        let client = Self.client(port: port)

        let error = await #expect(throws: HTTPCallError.self) { try await client.execute(Self.echo(1)) }

        #expect(error?.kind == .connectFailed)
        #expect(error?.mayHaveReachedServer == false)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        await client.shutdown()
    }

    @Test func callsAfterShutdownFailAtOnce() async throws {
        let client = Self.client(port: 1)
        await client.shutdown()
        let error = await #expect(throws: HTTPCallError.self) { try await client.execute(Self.echo(1)) }
        #expect(error?.kind == .shutDown)
    }
}
