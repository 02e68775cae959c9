// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Refuses requests over a listener's limits before a route sees them (see ``ListenerLimits``).
///
/// Sits after the HTTP/1 codec, on HTTP parts:
/// - a head whose `Content-Length` exceeds the body limit is answered `413` at once (after any response in
///   progress), none of its body is read, and the connection is closed;
/// - a body without `Content-Length` that crosses the limit stops there: the route reading it gets
///   ``RequestBodyTooLargeError`` (and answers `413`), and the connection is closed after that answer;
/// - a head the HTTP parser refused as too large is answered `431` instead of a bare `400`.
///
/// Together with ``RequestHeadSizeGuard`` it also bounds a request line the parser would keep buffering.
final class RequestLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// Forwarding a request's body; `received` bytes so far.
        case forwarding(received: Int)
        /// The connection closes after the answers in progress (and the refusal, if one is pending); what the
        /// client still sends is dropped.
        case refusing
    }

    private let maximumBodySize: Int
    private let refusal: ListenerLimits.Refusal
    private let progress: RequestHeadProgress
    private var state = State.idle
    /// Requests forwarded whose response has not ended yet.
    private var responsesInProgress = 0
    /// A refusal to write once the responses in progress have ended.
    private var pendingRefusal: (HTTPResponse.Status, String)?

    init(maximumBodySize: Int, refusal: @escaping ListenerLimits.Refusal, progress: RequestHeadProgress) {
        self.maximumBodySize = maximumBodySize
        self.refusal = refusal
        self.progress = progress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        switch (self.state, part) {
        case (.refusing, _):
            return
        case (_, .head(let head)):
            self.progress.headReceived()
            if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length > self.maximumBodySize {
                self.refuse(
                    context: context,
                    status: .contentTooLarge,
                    message: RequestBodyTooLargeError(limit: self.maximumBodySize).message
                )
                return
            }
            self.state = .forwarding(received: 0)
            self.responsesInProgress += 1
            context.fireChannelRead(data)
        case (.forwarding(let received), .body(let buffer)):
            let total = received + buffer.readableBytes
            guard total <= self.maximumBodySize else {
                // The route is reading (or will drain) this body: fail it, and close once it has answered.
                self.state = .refusing
                context.fireErrorCaught(RequestBodyTooLargeError(limit: self.maximumBodySize))
                if self.responsesInProgress == 0 { Self.closeLingering(context.channel) }
                return
            }
            self.state = .forwarding(received: total)
            context.fireChannelRead(data)
        case (_, .end):
            self.state = .idle
            self.progress.requestEnded()
            context.fireChannelRead(data)
        case (.idle, .body):
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Once refusing, what the client still sends is dropped, parse errors included.
        if case .refusing = self.state { return }
        if let error = error as? HTTPParserError, error == .headerOverflow {
            self.refuse(
                context: context,
                status: .requestHeaderFieldsTooLarge,
                message: "The request line and headers exceed the limit; send a shorter request."
            )
            return
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = self.unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        self.responsesInProgress = max(0, self.responsesInProgress - 1)
        guard case .refusing = self.state, self.responsesInProgress == 0 else {
            context.write(data, promise: promise)
            return
        }
        if let (status, message) = self.pendingRefusal {
            self.pendingRefusal = nil
            context.write(data, promise: promise)
            self.writeRefusal(context: context, status: status, message: message)
        } else {
            let channel = context.channel
            context.writeAndFlush(data).whenComplete { result in
                promise?.completeWith(result)
                Self.closeLingering(channel)
            }
        }
    }

    /// Answers `status` without passing the request on, then closes the connection.
    func refuse(context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        if case .refusing = self.state { return }
        self.state = .refusing
        if self.responsesInProgress == 0 {
            self.writeRefusal(context: context, status: status, message: message)
        } else {
            self.pendingRefusal = (status, message)
        }
    }

    private func writeRefusal(context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        let (contentType, body) = self.refusal(status, message)
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = contentType
        head.headerFields[.contentLength] = "\(body.readableBytes)"
        head.headerFields[.connection] = "close"
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            Self.closeLingering(channel)
        }
    }

    /// Closes `channel` after an answer that refused a request whose body the client may still be sending: the
    /// output is closed at once (the client sees the answer end), what still arrives is read and dropped for a
    /// moment, then the connection closes. Closing at once with unread input would reset the connection, and the
    /// client could lose the answer.
    static func closeLingering(_ channel: any Channel) {
        channel.close(mode: .output).whenComplete { result in
            guard case .success = result else {
                channel.close(promise: nil)
                return
            }
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }
}

/// Shared by ``RequestHeadSizeGuard`` and ``RequestLimitHandler`` of one connection (both on its event loop):
/// whether a request head is being received.
final class RequestHeadProgress {
    /// Bytes received since the last request ended (or the connection opened) while no head was complete.
    var headBytes = 0
    /// Whether a head is complete and its body is being received.
    var inBody = false

    func headReceived() {
        self.inBody = true
        self.headBytes = 0
    }

    func requestEnded() {
        self.inBody = false
        self.headBytes = 0
    }
}

/// Bounds the bytes of a request head before the HTTP parser buffers them: NIO's parser limits header fields but not
/// the request line, which it would keep buffering. First in the pipeline: once a head runs past `maximumHeadSize`,
/// it fails the parser as a header overflow does (so the client gets `431` and the connection closes) and drops what
/// follows.
final class RequestHeadSizeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maximumHeadSize: Int
    private let progress: RequestHeadProgress
    private var refused = false

    init(maximumHeadSize: Int, progress: RequestHeadProgress) {
        self.maximumHeadSize = maximumHeadSize
        self.progress = progress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        if !self.progress.inBody {
            self.progress.headBytes += self.unwrapInboundIn(data).readableBytes
            if self.progress.headBytes > self.maximumHeadSize {
                self.refused = true
                context.fireErrorCaught(HTTPParserError.headerOverflow)
                return
            }
        }
        context.fireChannelRead(data)
    }
}
