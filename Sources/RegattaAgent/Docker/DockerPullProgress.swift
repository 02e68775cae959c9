// SPDX-License-Identifier: Apache-2.0

/// One line of the JSON progress stream of `POST /images/create`.
public struct DockerPullProgress: Decodable, Sendable, Hashable {
    /// What is happening, for example `Downloading` or `Pull complete`.
    public var status: String?
    /// The layer this line is about.
    public var id: String?
    /// A progress bar as text.
    public var progress: String?
    /// Set when the pull failed.
    public var error: String?
    /// Details of ``error``.
    public var errorDetail: ErrorDetail?

    /// Details of a pull failure.
    public struct ErrorDetail: Decodable, Sendable, Hashable {
        /// Docker's message.
        public var message: String?
    }
}
