// SPDX-License-Identifier: Apache-2.0
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Builds the HTTP/1 listener of a Regatta daemon with ``ListenerLimits`` applied to every connection.
///
/// ```swift
/// let app = Application(router: router, server: LimitedHTTPServer.http1(limits, refusal: ..., logger: logger), ...)
/// ```
public enum LimitedHTTPServer {
    /// An HTTP/1 server builder that enforces `limits`; `refusal` renders the answers given before a route runs
    /// (`413`, `431`) in the daemon's error shape.
    public static func http1(
        _ limits: ListenerLimits,
        refusal: @escaping ListenerLimits.Refusal = ListenerLimits.plainTextRefusal,
        limiter: ConnectionLimiter? = nil,
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
                logger: logger
            )
        }
    }
}

/// Hummingbird's HTTP/1 child channel behind the connection cap and the request limits.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: ListenerLimits
    let refusal: ListenerLimits.Refusal
    let limiter: ConnectionLimiter
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
            try channel.pipeline.syncOperations.addHandler(
                RequestHeadSizeGuard(maximumHeadSize: self.limits.maximumHeaderSize, progress: progress)
            )
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // Shared by two handlers of this channel, on its event loop.
        let sharedProgress = NIOLoopBound(progress, eventLoop: channel.eventLoop)
        return self.base.setup(channel: channel, logger: logger).flatMap { value in
            do {
                // After the HTTP codec, before Hummingbird's connection handler.
                let connectionState = try channel.pipeline.syncOperations.handler(
                    type: HTTPConnectionStateHandler.self
                )
                try channel.pipeline.syncOperations.addHandler(
                    RequestLimitHandler(
                        maximumBodySize: self.limits.maximumBodySize,
                        refusal: self.refusal,
                        progress: sharedProgress.value
                    ),
                    position: .before(connectionState)
                )
                return channel.eventLoop.makeSucceededFuture(value)
            } catch {
                // The connection closed while it was being set up (its pipeline is gone). The async channel made for
                // it is never handled, so it must be closed here, which finishes its writer: NIO stops the process
                // when one is deinited unfinished ("Deinited NIOAsyncWriter without calling finish()"). The task
                // ends as soon as the channel is closed; the future it completes is the only handle needed.
                return channel.eventLoop.makeFutureWithTask {
                    try? await value.executeThenClose { _, _ in }
                    throw error
                }
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Why a connection over the cap was closed.
struct ConnectionLimitReached: Error {}
