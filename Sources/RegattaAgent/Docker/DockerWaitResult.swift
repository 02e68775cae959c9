// SPDX-License-Identifier: Apache-2.0

/// The answer of `POST /containers/{id}/wait`.
public struct DockerWaitResult: Decodable, Sendable, Hashable {
    /// The exit code of the main process.
    public var statusCode: Int64
    /// Docker's error while waiting, if any.
    public var error: WaitError?

    /// An error Docker met while waiting.
    public struct WaitError: Decodable, Sendable, Hashable {
        /// Docker's message.
        public var message: String?

        enum CodingKeys: String, CodingKey {
            case message = "Message"
        }
    }

    enum CodingKeys: String, CodingKey {
        case statusCode = "StatusCode"
        case error = "Error"
    }
}
