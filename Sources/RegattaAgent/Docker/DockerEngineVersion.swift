// SPDX-License-Identifier: Apache-2.0

/// What `GET /version` says about the Docker Engine.
public struct DockerEngineVersion: Decodable, Sendable, Hashable {
    /// The engine's release, for example `20.10.24`.
    public var version: String
    /// The newest API version the engine speaks, for example `1.41`.
    public var apiVersion: String
    /// The oldest API version the engine speaks.
    public var minAPIVersion: String?
    /// The engine's operating system, for example `linux`.
    public var os: String?
    /// The engine's CPU architecture, for example `amd64`.
    public var arch: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case apiVersion = "ApiVersion"
        case minAPIVersion = "MinAPIVersion"
        case os = "Os"
        case arch = "Arch"
    }
}
