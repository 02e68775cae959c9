// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// The last handler of an ``HTTPCallClient`` connection: passes response parts and the connection's end to its
/// ``HTTPCallConnection``.
final class HTTPCallResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let connection: HTTPCallConnection

    init(connection: HTTPCallConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head): self.connection.received(head: head)
        case .body(let buffer): self.connection.received(body: buffer)
        case .end: self.connection.receivedEnd()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.connection.failed(error)
        context.close(promise: nil)
    }
}
