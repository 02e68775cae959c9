// SPDX-License-Identifier: Apache-2.0
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL

/// Builds the HTTP/1 listener of a Regatta daemon with ``ListenerLimits`` applied to every connection, over TLS when
/// the daemon has a certificate (``TLSSettings/serverContext``).
///
/// ```swift
/// let app = Application(router: router, server: LimitedHTTPServer.http1(limits, refusal: ..., logger: logger), ...)
/// ```
public enum LimitedHTTPServer {
    /// An HTTP/1 server builder that enforces `limits`; `refusal` renders the answers given before a route runs
    /// (`413`, `431`) in the daemon's error shape.
    ///
    /// With `tls` holding a server context, every connection is TLS first (a plain HTTP client fails the handshake
    /// and is closed); the limits apply to what it carries. The connection cap is checked before the handshake.
    public static func http1(
        _ limits: ListenerLimits,
        refusal: @escaping ListenerLimits.Refusal = ListenerLimits.plainTextRefusal,
        limiter: ConnectionLimiter? = nil,
        tls: TLSSettings? = nil,
        logger: Logger
    ) -> HTTPServerBuilder {
        let limiter = limiter ?? ConnectionLimiter(maximum: limits.maximumConnections)
        return HTTPServerBuilder { responder in
            let configuration = HTTP1Channel.Configuration(
                additionalChannelHandlers: [],
                idleTimeout: TimeAmount(limits.idleTimeout),
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: limits.maximumHeaderSize,
                    maxHeaderListSize: limits.maximumHeaderSize
                )
            )
            let channel = HTTP1Channel(
                responder: { request, writer, channel in
                    var writer: ResponseWriter? = consume writer
                    try await ServerConnection.$current.withValue(ServerConnection(channel: channel)) {
                        try await responder(request, writer.take()!, channel)
                    }
                },
                configuration: configuration
            )
            return LimitedHTTP1Channel(
                base: channel,
                limits: limits,
                refusal: refusal,
                limiter: limiter,
                tls: tls?.serverContext,
                logger: logger
            )
        }
    }
}

/// Hummingbird's HTTP/1 child channel behind the connection cap and the request limits, inside TLS when `tls` is set.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: ListenerLimits
    let refusal: ListenerLimits.Refusal
    let limiter: ConnectionLimiter
    /// The context connections are served TLS with; `nil` for plain HTTP.
    let tls: NIOSSLContext?
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        switch self.limiter.open() {
        case .refused(let first):
            if first {
                self.logger.warning(
                    "Connection limit reached; closing new connections until some close",
                    metadata: ["connections.limit": "\(self.limiter.maximum)"]
                )
            }
            // Closed at once: the client sees the connection end instead of waiting in the backlog.
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
        case .accepted:
            let limiter = self.limiter
            channel.closeFuture.whenComplete { _ in limiter.close() }
        }
        let progress = RequestHeadProgress()
        do {
            // TLS first: the head-size guard and the HTTP codec see the decrypted bytes.
            if let tls = self.tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
            try channel.pipeline.syncOperations.addHandler(
                RequestHeadSizeGuard(maximumHeadSize: self.limits.maximumHeaderSize, progress: progress)
            )
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // The body limit goes in through Hummingbird's `additionalChannelHandlers`, which it adds after the HTTP codec
        // and before its connection handler, synchronously with the rest of the pipeline. A connection that closed
        // meanwhile fails that setup before Hummingbird wraps the channel, so no async channel is left unfinished.
        let sharedProgress = NIOLoopBound(progress, eventLoop: channel.eventLoop)
        let maximumBodySize = self.limits.maximumBodySize
        let refusal = self.refusal
        var configuration = self.base.configuration
        configuration.additionalChannelHandlers = {
            [RequestLimitHandler(maximumBodySize: maximumBodySize, refusal: refusal, progress: sharedProgress.value)]
        }
        return HTTP1Channel(responder: self.base.responder, configuration: configuration)
            .setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Why a connection over the cap was closed.
struct ConnectionLimitReached: Error {}
