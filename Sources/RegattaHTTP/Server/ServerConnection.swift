// SPDX-License-Identifier: Apache-2.0
import NIOCore

/// The connection a request arrived on, for code that must drop it: a streaming response whose client stopped
/// reading cannot be ended from the response body (its write waits for the client), only by closing the connection.
///
/// Set for the handling of each request by listeners built with ``LimitedHTTPServer``; `nil` elsewhere (tests
/// that serve routes with a plain Hummingbird server).
public struct ServerConnection: Sendable {
    /// The connection of the request being handled.
    @TaskLocal public static var current: ServerConnection?

    private let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Closes the connection: writes waiting for the client fail, and the client sees the stream end.
    public func close() {
        self.channel.close(promise: nil)
    }
}
