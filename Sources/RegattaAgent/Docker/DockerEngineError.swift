// SPDX-License-Identifier: Apache-2.0

/// A failed Docker Engine API call: what was asked, the HTTP status and Docker's own `message`.
///
/// ``DockerEngineClient`` throws `AgentError`s whose `cause` is a `DockerEngineError`, so callers can branch on
/// ``statusCode`` (404: no such container or image; 409: a name conflict) while operators read the `AgentError`.
public struct DockerEngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP method of the call, for example `POST`.
    public var method: String
    /// The path of the call without the API version, for example `/containers/create`.
    public var path: String
    /// The HTTP status Docker answered with; `nil` when no answer arrived (socket missing, connection lost).
    public var statusCode: Int?
    /// Docker's `message`, or what went wrong on the way to Docker.
    public var message: String

    /// Describes a failed call.
    public init(method: String, path: String, statusCode: Int?, message: String) {
        self.method = method
        self.path = path
        self.statusCode = statusCode
        self.message = message
    }

    public var description: String {
        let status = self.statusCode.map { "HTTP \($0)" } ?? "no answer"
        return "\(self.method) \(self.path): \(status): \(self.message)"
    }
}

extension AgentError {
    /// The HTTP status of the Docker Engine answer behind this error, if it came from one.
    public var dockerStatusCode: Int? {
        (self.cause as? DockerEngineError)?.statusCode
    }
}
