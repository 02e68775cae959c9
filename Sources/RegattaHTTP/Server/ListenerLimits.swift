// SPDX-License-Identifier: Apache-2.0
import HTTPTypes
import NIOCore

/// The limits every Regatta HTTP listener enforces before a request reaches a route.
///
/// - `maximumConnections`: connections open at once; one more is closed as soon as it is accepted.
/// - `idleTimeout`: a connection with no request in progress and nothing read for this long is closed. A response
///   that is still being written (a SUBSCRIBE stream, `/v2/events`) is never idle.
/// - `maximumBodySize`: a request whose `Content-Length` is larger is answered `413` before any of its body is read,
///   and the connection closed; a chunked body is cut off with `413` as soon as it crosses the limit.
/// - `maximumHeaderSize`: the request line and headers together; more is refused (`431`) by the HTTP parser.
public struct ListenerLimits: Sendable {
    /// Connections open at once. Defaults to `4096`.
    public var maximumConnections: Int = 4096
    /// How long a connection may stay idle. Defaults to `60` seconds.
    public var idleTimeout: Duration = .seconds(60)
    /// The largest request body. Defaults to `8` MiB.
    public var maximumBodySize: Int = 8 << 20
    /// The largest request head (request line and headers). Defaults to `80` KiB, NIO's default.
    public var maximumHeaderSize: Int = 80 * 1024

    /// The default connection cap of the agent and the scheduler: enough for every client a cluster of thousands of
    /// agents sends their way, far below a default descriptor limit once raised, and small enough that the
    /// connections' buffers (tens of KiB each) stay well under 1 GiB.
    public static let defaultMaximumConnections = 4096
    /// The default connection cap of the master: it holds one stream per agent and per framework, and must carry
    /// the 10,000 agents of the scale model plus frameworks, operators and the overlap of reconnections.
    public static let defaultMasterMaximumConnections = 16384

    public init() {}

    public init(maximumConnections: Int, idleTimeout: Duration = .seconds(60), maximumBodySize: Int) {
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.maximumBodySize = maximumBodySize
    }

    /// The body of an answer that refuses a request before it reaches a route, in the daemon's error shape.
    public typealias Refusal = @Sendable (HTTPResponse.Status, String) -> (contentType: String, body: ByteBuffer)

    /// Mesos's error shape: a plain-text message (the master and the agent).
    public static let plainTextRefusal: Refusal = { _, message in
        ("text/plain; charset=utf-8", ByteBuffer(string: message))
    }
}

/// Thrown by the body of a request that crossed ``ListenerLimits/maximumBodySize`` (a chunked body); routes answer
/// it with `413`.
public struct RequestBodyTooLargeError: Error, Sendable, CustomStringConvertible {
    /// The limit that was crossed, in bytes.
    public var limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// The message routes send with `413`.
    public var message: String {
        "The request body exceeds \(self.limit) bytes, the largest accepted; send a smaller body."
    }

    public var description: String { self.message }
}
