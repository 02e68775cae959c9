// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import NIOCore

/// The request context of the scheduler's API: Hummingbird's basic context plus the client's address, which
/// Marathon reports as `clientIp` of `api_post_event` and `remoteAddress` of `event_stream_attached`.
///
/// Build the router with `Router(context: MarathonRequestContext.self)` to get addresses; with another context
/// the routes still work and report the `X-Forwarded-For` address, if any.
public struct MarathonRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection the request came on.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
