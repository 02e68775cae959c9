// SPDX-License-Identifier: Apache-2.0

/// One entry of `GET /containers/json`.
public struct DockerContainerSummary: Decodable, Sendable, Hashable {
    /// Docker's id of the container.
    public var id: String
    /// The container's names, each with Docker's leading `/`.
    public var names: [String]
    /// The image as it was named at creation.
    public var image: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var state: String
    /// Docker's human-readable status, for example `Up 3 minutes`.
    public var status: String?
    /// The labels.
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case names = "Names"
        case image = "Image"
        case state = "State"
        case status = "Status"
        case labels = "Labels"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.names = try container.decodeIfPresent([String].self, forKey: .names) ?? []
        self.image = try container.decodeIfPresent(String.self, forKey: .image) ?? ""
        self.state = try container.decodeIfPresent(String.self, forKey: .state) ?? ""
        self.status = try container.decodeIfPresent(String.self, forKey: .status)
        self.labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}
