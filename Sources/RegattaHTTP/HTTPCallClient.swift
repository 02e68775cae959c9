// SPDX-License-Identifier: Apache-2.0
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A lean HTTP/1.1 client for request/response calls to one server (`host:port`).
///
/// It keeps up to ``Configuration/connections`` keep-alive connections, spreads calls over them (an idle
/// connection first, then a new one, then the least busy), and pipelines up to ``Configuration/pipelineDepth``
/// calls on each; responses are matched to calls in the order the calls were written, as HTTP/1.1 requires. A
/// connection the server closes is replaced on the next call. Every call has a deadline.
///
/// A call that was written to a connection is never sent again: if its connection dies before the response, the
/// call fails with ``HTTPCallError/Kind/connectionLost`` (``HTTPCallError/mayHaveReachedServer`` is `true`). Only
/// calls that were never written move to another connection.
///
/// Responses are read whole (up to ``Configuration/maximumResponseBodyBytes``); redirects are returned, not
/// followed. Not for streaming responses.
///
/// ```swift
/// let client = HTTPCallClient(host: "127.0.0.1", port: 5050, logger: logger)
/// defer { Task { await client.shutdown() } }
/// let response = try await client.execute(HTTPCallRequest(path: "/api/v1/scheduler", body: body))
/// ```
///
/// All connections of one client live on one event loop, where its state is kept without locks.
public final class HTTPCallClient: Sendable {
    /// Limits of an ``HTTPCallClient``.
    public struct Configuration: Sendable {
        /// Keep-alive connections opened at most. Defaults to `4`.
        public var connections = 4
        /// Calls written on one connection before earlier ones are answered (`1`: no pipelining). Defaults to `4`.
        public var pipelineDepth = 4
        /// Deadline of a call, from ``HTTPCallClient/execute(_:timeout:)`` until its whole response; a call may
        /// pass its own. Defaults to `10` seconds.
        public var timeout: TimeAmount = .seconds(10)
        /// How long opening a connection may take. Defaults to `5` seconds.
        public var connectTimeout: TimeAmount = .seconds(5)
        /// The largest response body accepted; a larger one fails its call. Defaults to 1 MiB.
        public var maximumResponseBodyBytes = 1 << 20
        /// Calls go over TLS (`https`) with these settings' client context: the server's certificate must chain to
        /// the trusted CA and name the host (an IP address is matched against the certificate's IP SANs). `nil`
        /// (the default) is plain HTTP.
        public var tls: TLSSettings?

        /// The defaults.
        public init() {}
    }

    /// Counters of one client, for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Connections opened successfully.
        public var connectionsOpened = 0
        /// Calls written to a connection.
        public var callsWritten = 0
        /// Calls completed with a response.
        public var responses = 0
        /// The most calls that were in flight on one connection at once.
        public var deepestPipeline = 0
    }

    /// The server's host.
    public let host: String
    /// The server's port.
    public let port: Int
    /// The limits in use.
    public let configuration: Configuration
    private let eventLoop: any EventLoop
    private let pool: NIOLoopBoundBox<HTTPCallPool>

    /// A client for `host:port`; nothing connects until the first call.
    ///
    /// - Parameter eventLoop: the loop every connection of this client runs on; by default one of NIO's shared
    ///   group.
    public init(
        host: String,
        port: Int,
        configuration: Configuration = Configuration(),
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) {
        var configuration = configuration
        configuration.connections = max(1, configuration.connections)
        configuration.pipelineDepth = max(1, configuration.pipelineDepth)
        self.host = host
        self.port = port
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.pool = NIOLoopBoundBox.makeBoxSendingValue(
            HTTPCallPool(host: host, port: port, configuration: configuration, eventLoop: eventLoop, logger: logger),
            eventLoop: eventLoop
        )
    }

    deinit {
        let pool = self.pool
        self.eventLoop.execute { _ = pool.value.shutdown(reason: "the client was released") }
    }

    /// Sends `request` and returns the whole response, or throws.
    ///
    /// - Parameter timeout: the deadline for this call; ``Configuration/timeout`` when `nil`.
    /// - Throws: ``HTTPCallError``; `CancellationError` when the calling task is cancelled (a call already written
    ///   is then abandoned, its response discarded).
    public func execute(_ request: HTTPCallRequest, timeout: TimeAmount? = nil) async throws -> HTTPCallResponse {
        let promise = self.eventLoop.makePromise(of: HTTPCallResponse.self)
        let call = NIOLoopBoundBox.makeBoxSendingValue(
            HTTPCall(request: request, promise: promise),
            eventLoop: self.eventLoop
        )
        let pool = self.pool
        let deadline = timeout ?? self.configuration.timeout
        self.eventLoop.execute { pool.value.submit(call.value, timeout: deadline) }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            self.eventLoop.execute { pool.value.abandon(call.value, with: CancellationError()) }
        }
    }

    /// The client's counters.
    public func statistics() async -> Statistics {
        let pool = self.pool
        return (try? await self.eventLoop.submit { pool.value.statistics }.get()) ?? Statistics()
    }

    /// Fails every pending call with ``HTTPCallError/Kind/shutDown`` and closes the connections. Calls made
    /// afterwards fail at once.
    public func shutdown() async {
        let pool = self.pool
        let closed = self.eventLoop.flatSubmit { pool.value.shutdown(reason: "the client was shut down") }
        try? await closed.get()
    }
}
