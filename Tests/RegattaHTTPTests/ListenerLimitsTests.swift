// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging
import NIOCore
import RegattaHTTP
import ServiceLifecycle
import Testing

/// The limits every listener enforces (``LimitedHTTPServer``), against a live server and raw TCP clients. Every
/// wait is gated on what the server does (answers, closes), never on a sleep.
@Suite(.timeLimit(.minutes(2))) struct ListenerLimitsTests {
    static let logger = Logger(label: "test.limits", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A router like the daemons': `/health`, a body-reading `POST /echo` that answers 413 as the daemons' routes
    /// do, and a slow `/slow`.
    static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in Response(status: .ok) }
        router.post("/echo") { request, _ in
            do {
                let body = try await request.body.collect(upTo: 1 << 30)
                return Response(status: .ok, body: ResponseBody(byteBuffer: body))
            } catch let error as RequestBodyTooLargeError {
                return Response(
                    status: .contentTooLarge,
                    body: ResponseBody(byteBuffer: ByteBuffer(string: error.message))
                )
            }
        }
        router.get("/slow") { _, _ in
            // Longer than the idle timeout of the tests: a request in progress is not idle.
            try await Task.sleep(for: .milliseconds(600))
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "done")))
        }
        return router
    }

    /// Serves `router()` with `limits` on a free loopback port while `body` runs.
    static func serve(
        _ limits: ListenerLimits,
        limiter: ConnectionLimiter? = nil,
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        try await TestServers.hummingbird(
            Self.router(),
            server: LimitedHTTPServer.http1(limits, limiter: limiter, logger: Self.logger),
            body
        )
    }

    static func limits(
        connections: Int = 100,
        idleTimeout: Duration = .seconds(60),
        body: Int = 1024
    ) -> ListenerLimits {
        ListenerLimits(maximumConnections: connections, idleTimeout: idleTimeout, maximumBodySize: body)
    }

    @Test func idleConnectionIsClosed() async throws {
        try await Self.serve(Self.limits(idleTimeout: .milliseconds(200))) { port in
            // Given a connection that sends nothing
            let connection = try await RawConnection.connect(port: port)
            // When it stays idle past the idle timeout
            let received = try await connection.waitUntilClosed()
            // Then the server closed it, without an answer
            #expect(received.isEmpty)
        }
    }

    @Test func requestInProgressIsNotIdle() async throws {
        try await Self.serve(Self.limits(idleTimeout: .milliseconds(200))) { port in
            // Given a request whose answer takes longer than the idle timeout
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
            // When the answer comes
            let received = try await connection.waitUntilReceived("done")
            // Then it came whole: the connection was not cut while the server worked on it
            #expect(received.hasPrefix("HTTP/1.1 200"))
            #expect(received.hasSuffix("done"))
            await connection.close()
        }
    }

    @Test func connectionOverTheCapIsClosedAtOnce() async throws {
        let limiter = ConnectionLimiter(maximum: 2)
        try await Self.serve(Self.limits(connections: 2), limiter: limiter) { port in
            // Given two connections, each served
            var open: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await RawConnection.connect(port: port)
                try await connection.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
                #expect(try await connection.waitUntilReceived("\r\n\r\n").hasPrefix("HTTP/1.1 200"))
                open.append(connection)
            }
            // When a third connects
            let third = try await RawConnection.connect(port: port)
            try? await third.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            // Then it is closed without an answer, and the two others still work
            #expect(try await third.waitUntilClosed().isEmpty)
            #expect(limiter.refusedConnections == 1)
            try await open[0].send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try await open[0].waitUntilReceived("HTTP/1.1 200 OK\r\n").contains("200"))
            // When one of them closes, a new connection is served again
            await open[1].close()
            while limiter.openConnections > 1 { try await Task.sleep(for: .milliseconds(10)) }
            let fourth = try await RawConnection.connect(port: port)
            try await fourth.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try await fourth.waitUntilReceived("\r\n\r\n").hasPrefix("HTTP/1.1 200"))
            await fourth.close()
            await open[0].close()
        }
    }

    @Test func contentLengthOverTheLimitIsRefusedBeforeTheBodyIsSent() async throws {
        try await Self.serve(Self.limits(body: 1024)) { port in
            // Given a request announcing 10 GB, of which nothing is sent
            let connection = try await RawConnection.connect(port: port)
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10000000000\r\nContent-Type: application/json\r\n\r\n"
            )
            // When the server answers (and closes)
            let received = try await connection.waitUntilClosed()
            // Then it is 413 naming the limit, in the refusal's shape, without waiting for the body
            #expect(received.hasPrefix("HTTP/1.1 413"))
            #expect(received.lowercased().contains("connection: close"))
            #expect(received.contains("exceeds 1024 bytes"))
        }
    }

    @Test func bodyJustUnderTheLimitIsServed() async throws {
        try await Self.serve(Self.limits(body: 1024)) { port in
            let connection = try await RawConnection.connect(port: port)
            let body = String(repeating: "x", count: 1024)
            try await connection.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1024\r\n\r\n\(body)")
            let received = try await connection.waitUntilReceived(body)
            #expect(received.hasPrefix("HTTP/1.1 200"))
            await connection.close()
        }
    }

    @Test func chunkedBodyIsCutOffWith413OnceItCrossesTheLimit() async throws {
        try await Self.serve(Self.limits(body: 1024)) { port in
            // Given a chunked body that crosses the limit and then stops sending (no last chunk)
            let connection = try await RawConnection.connect(port: port)
            let chunk = String(repeating: "y", count: 600)
            try await connection.send(
                "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n"
            )
            // When the server answers
            let received = try await connection.waitUntilClosed()
            // Then the route got the error and answered 413, and the connection was closed
            #expect(received.hasPrefix("HTTP/1.1 413"))
            #expect(received.contains("exceeds 1024 bytes"))
        }
    }

    @Test func oversizedHeadersAndRequestLineGet431() async throws {
        var limits = Self.limits()
        limits.maximumHeaderSize = 4096
        try await Self.serve(limits) { port in
            // Given a header over the limit
            let header = try await RawConnection.connect(port: port)
            try await header.send(
                "GET /health HTTP/1.1\r\nHost: test\r\nX-Big: \(String(repeating: "h", count: 8192))\r\n\r\n"
            )
            #expect(try await header.waitUntilClosed().hasPrefix("HTTP/1.1 431"))
            // Given a request line over the limit, which the parser alone would keep buffering
            let line = try await RawConnection.connect(port: port)
            try? await line.send("GET /\(String(repeating: "u", count: 64 * 1024)) HTTP/1.1\r\n")
            #expect(try await line.waitUntilClosed().hasPrefix("HTTP/1.1 431"))
            // Then the server still serves
            let next = try await RawConnection.connect(port: port)
            try await next.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try await next.waitUntilReceived("\r\n\r\n").hasPrefix("HTTP/1.1 200"))
            await next.close()
        }
    }

    @Test func serverConnectionClosesTheConnectionOfTheRequest() async throws {
        // Given a route that hands its connection out, as a stream's subscriber queue does
        let router = Router()
        router.get("/stream") { _, _ in
            let connection = ServerConnection.current
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "first"))
                    // When it closes the connection (its subscriber stopped reading)
                    connection?.close()
                    try await writer.finish(nil)
                }
            )
        }
        try await TestServers.hummingbird(router, server: LimitedHTTPServer.http1(Self.limits(), logger: Self.logger)) {
            port in
            let connection = try await RawConnection.connect(port: port)
            try await connection.send("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
            // Then the client sees the connection end
            let received = try await connection.waitUntilClosed()
            #expect(received.hasPrefix("HTTP/1.1 200"))
        }
    }
}
