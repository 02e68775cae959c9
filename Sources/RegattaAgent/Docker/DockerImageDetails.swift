// SPDX-License-Identifier: Apache-2.0

/// What `GET /images/{name}/json` says about a local image.
public struct DockerImageDetails: Decodable, Sendable, Hashable {
    /// The image id (`sha256:…`).
    public var id: String
    /// The tags naming the image.
    public var repoTags: [String]?

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
    }
}
