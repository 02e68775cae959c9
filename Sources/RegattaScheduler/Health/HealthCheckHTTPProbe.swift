// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One `GET` over a fresh HTTP/1.1 connection (TLS without certificate verification for HTTPS), answering the status
/// of the first response head — informational (1xx) heads included, which general-purpose clients swallow while
/// they wait for a final answer, so that `ignoreHttp1xx` can be honoured.
///
/// A fresh connection per check, as Marathon does: it also probes that the task still accepts connections, and a
/// dead task cannot hold a pooled connection half-open. The connection is closed as soon as the head arrives.
struct HealthCheckHTTPProbe: Sendable {
    /// Why no status was read.
    enum Failure: Error, Sendable, CustomStringConvertible {
        /// The connection ended before a response head.
        case closedBeforeResponse
        /// TLS is unavailable in this process.
        case tlsUnavailable(String)

        var description: String {
            switch self {
            case .closedBeforeResponse: "the connection was closed before a response"
            case .tlsUnavailable(let reason): "TLS is unavailable: \(reason)"
            }
        }
    }

    private let group: any EventLoopGroup
    private let tlsContext: NIOSSLContext?
    private let tlsError: String?

    init(group: any EventLoopGroup) {
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        do {
            self.tlsContext = try NIOSSLContext(configuration: configuration)
            self.tlsError = nil
        } catch {
            self.tlsContext = nil
            self.tlsError = "\(error)"
        }
    }

    /// Sends `GET path` to `address:port` and returns the first response status.
    /// - Parameters:
    ///   - hostHeader: The `Host` header and, for HTTPS to a name, the TLS server name.
    ///   - connectTimeout: The limit on establishing the connection; the caller bounds the whole exchange.
    /// - Throws: A connection error, a TLS error or ``Failure``. Cancellation closes the connection.
    func status(
        address: String,
        port: Int,
        path: String,
        hostHeader: String,
        secure: Bool,
        connectTimeout: TimeAmount
    ) async throws -> HTTPResponseStatus {
        var tls: NIOSSLContext?
        if secure {
            guard let context = self.tlsContext else { throw Failure.tlsUnavailable(self.tlsError ?? "unknown") }
            tls = context
        }
        let eventLoop = self.group.next()
        let promise = eventLoop.makePromise(of: HTTPResponseStatus.self)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: hostHeader)
        headers.add(name: "User-Agent", value: "Regatta-HealthCheck")
        headers.add(name: "Accept", value: "*/*")
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let serverName = Self.isIPAddress(hostHeader) ? nil : hostHeader
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelInitializer { [tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tls {
                        try operations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try operations.addHandler(HTTPRequestEncoder())
                    let decoder = HTTPResponseDecoder(
                        leftOverBytesStrategy: .dropBytes,
                        informationalResponseStrategy: .forward
                    )
                    try operations.addHandler(ByteToMessageHandler(decoder))
                    try operations.addHandler(StatusHandler(promise: promise, request: head))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address, port: port).get()
        } catch {
            promise.fail(error)
            throw error
        }
        return try await withTaskCancellationHandler {
            defer { channel.close(promise: nil) }
            return try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// Writes the request when the connection is up and completes the promise with the first response head.
    private final class StatusHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        private let promise: EventLoopPromise<HTTPResponseStatus>
        private let request: HTTPRequestHead

        init(promise: EventLoopPromise<HTTPResponseStatus>, request: HTTPRequestHead) {
            self.promise = promise
            self.request = request
        }

        func channelActive(context: ChannelHandlerContext) {
            context.write(self.wrapOutboundOut(.head(self.request)), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Later completions are ignored by the promise: only the first head counts.
            if case .head(let head) = self.unwrapInboundIn(data) {
                self.promise.succeed(head.status)
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.promise.fail(Failure.closedBeforeResponse)
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.promise.fail(Failure.closedBeforeResponse)
        }
    }
}
