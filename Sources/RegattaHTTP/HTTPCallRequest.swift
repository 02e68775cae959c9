// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// One request for ``HTTPCallClient``: a method, a path on the client's server, headers and a complete body.
public struct HTTPCallRequest: Sendable {
    /// The method, e.g. `.POST`.
    public var method: HTTPMethod
    /// The request target: a path with an optional query, e.g. `/api/v1/scheduler`.
    public var path: String
    /// Headers to send. `Host` and `Content-Length` are added by the client when missing.
    public var headers: HTTPHeaders
    /// The complete body (empty for none).
    public var body: ByteBuffer

    /// A request for `path` with `headers` and `body`.
    public init(method: HTTPMethod = .POST, path: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}
