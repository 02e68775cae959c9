// SPDX-License-Identifier: Apache-2.0
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The state of an ``HTTPCallClient``: its connections and the calls waiting for one. Lives on the client's
/// event loop; every method runs there.
final class HTTPCallPool {
    let host: String
    let port: Int
    let configuration: HTTPCallClient.Configuration
    /// `host:port` (the `Host` header, and the server's name in messages).
    let hostHeader: String
    private let eventLoop: any EventLoop
    private let logger: Logger
    private var connections: [HTTPCallConnection] = []
    /// Calls not written yet, oldest first.
    private var waiting = CircularBuffer<HTTPCall>()
    private var nextConnectionID = 0
    private var isShutDown = false
    private(set) var statistics = HTTPCallClient.Statistics()

    init(host: String, port: Int, configuration: HTTPCallClient.Configuration, eventLoop: any EventLoop, logger: Logger)
    {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func submit(_ call: HTTPCall, timeout: TimeAmount) {
        guard !self.isShutDown else {
            call.complete(
                .failure(
                    HTTPCallError(
                        .shutDown,
                        mayHaveReachedServer: false,
                        "The HTTP client for \(self.hostHeader) is shut down; \(call.summary) was not sent."
                    )
                )
            )
            return
        }
        call.deadline = self.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.expire(call, after: timeout)
        }
        self.waiting.append(call)
        self.dispatch()
    }

    /// Fails `call` with `error`: a waiting call leaves the queue, a written one is abandoned (its response, if
    /// any, is discarded).
    func abandon(_ call: HTTPCall, with error: any Error) {
        guard !call.isDone else { return }
        if let connection = call.connection {
            call.complete(.failure(error))
            connection.abandoned()
        } else {
            if let index = self.waiting.firstIndex(where: { $0 === call }) { self.waiting.remove(at: index) }
            call.complete(.failure(error))
        }
    }

    private func expire(_ call: HTTPCall, after timeout: TimeAmount) {
        let written = call.connection != nil
        let message =
            written
            ? "\(self.hostHeader) did not answer \(call.summary) within \(timeout); the server may have received the "
                + "request, so it was not sent again."
            : "No connection to \(self.hostHeader) was free for \(call.summary) within \(timeout); it was not sent. "
                + "The server is slow or unreachable, or the client needs more connections."
        self.abandon(call, with: HTTPCallError(.deadlineExceeded, mayHaveReachedServer: written, message))
    }

    /// Writes waiting calls: on an idle connection first, else opening a new connection when allowed, else
    /// pipelined on the least busy connection with room.
    private func dispatch() {
        while !self.waiting.isEmpty {
            var best: HTTPCallConnection?
            for connection in self.connections
            where connection.isAccepting && connection.inFlight.count < self.configuration.pipelineDepth {
                if best == nil || connection.inFlight.count < best!.inFlight.count { best = connection }
            }
            if best == nil || best!.inFlight.count > 0 {
                var connecting = self.connections.count { $0.isConnecting }
                while self.connections.count < self.configuration.connections && connecting < self.waiting.count {
                    self.connect()
                    connecting += 1
                }
            }
            guard let connection = best, let call = self.waiting.popFirst() else { return }
            if connection.write(call) {
                self.statistics.callsWritten += 1
                self.statistics.deepestPipeline = max(self.statistics.deepestPipeline, connection.inFlight.count)
            } else {
                self.waiting.prepend(call)
                connection.close()
                return
            }
        }
    }

    private func connect() {
        let connection = HTTPCallConnection(id: self.nextConnectionID, pool: self)
        self.nextConnectionID += 1
        self.connections.append(connection)
        let bound = NIOLoopBound(connection, eventLoop: self.eventLoop)
        let tls = self.configuration.tls?.clientContext
        // SNI carries host names only; an IP address is verified against the certificate's IP SANs instead.
        let serverHostname = (try? SocketAddress(ipAddress: self.host, port: 0)) == nil ? self.host : nil
        ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                        )
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPCallResponseHandler(connection: bound.value))
                }
            }
            .connect(host: self.host, port: self.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard !self.isShutDown else {
                        channel.close(promise: nil)
                        return
                    }
                    connection.connected(channel)
                    self.statistics.connectionsOpened += 1
                    self.dispatch()
                case .failure(let error):
                    self.connectFailed(connection, error: error)
                }
            }
    }

    private func connectFailed(_ connection: HTTPCallConnection, error: any Error) {
        self.connections.removeAll { $0 === connection }
        self.logger.debug(
            "Connecting for HTTP calls failed",
            metadata: ["server": "\(self.hostHeader)", "error": "\(error)"]
        )
        // With another connection open or opening, the waiting calls go there; else they fail now.
        guard self.connections.isEmpty else { return }
        while let call = self.waiting.popFirst() {
            call.complete(
                .failure(
                    HTTPCallError(
                        .connectFailed,
                        mayHaveReachedServer: false,
                        "Could not connect to \(self.hostHeader) (\(error)); \(call.summary) was not sent. Check "
                            + "that the server runs and listens there."
                    )
                )
            )
        }
    }

    func answered() {
        self.statistics.responses += 1
    }

    /// A call on a connection was answered: it may take another.
    func connectionFreed() {
        self.dispatch()
    }

    func connectionClosed(_ connection: HTTPCallConnection) {
        self.connections.removeAll { $0 === connection }
        if !self.isShutDown { self.dispatch() }
    }

    func shutdown(reason: String) -> EventLoopFuture<Void> {
        self.isShutDown = true
        while let call = self.waiting.popFirst() {
            call.complete(
                .failure(
                    HTTPCallError(
                        .shutDown,
                        mayHaveReachedServer: false,
                        "\(reason); \(call.summary) was not sent."
                    )
                )
            )
        }
        var closed: [EventLoopFuture<Void>] = []
        for connection in self.connections {
            for call in connection.inFlight {
                call.complete(
                    .failure(
                        HTTPCallError(
                            .shutDown,
                            mayHaveReachedServer: true,
                            "\(reason) before \(self.hostHeader) answered \(call.summary); the server may have "
                                + "received it."
                        )
                    )
                )
            }
            if case .active(let channel) = connection.state {
                closed.append(channel.close().recover { _ in })
            }
        }
        return EventLoopFuture.andAllComplete(closed, on: self.eventLoop)
    }
}
