// SPDX-License-Identifier: Apache-2.0
import NIOCore
import NIOHTTP1

/// A complete response received by ``HTTPCallClient``. Redirects are not followed: a `307` arrives as it is, with
/// its `Location` header.
public struct HTTPCallResponse: Sendable {
    /// The status, e.g. `.accepted`.
    public var status: HTTPResponseStatus
    /// The response headers.
    public var headers: HTTPHeaders
    /// The whole body, at most ``HTTPCallClient/Configuration/maximumResponseBodyBytes``.
    public var body: ByteBuffer

    /// A response with `status`, `headers` and `body`.
    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid bytes repaired).
    public var bodyText: String { String(buffer: self.body) }
}
