// SPDX-License-Identifier: Apache-2.0

/// The answer of `POST /containers/create`.
public struct DockerCreatedContainer: Decodable, Sendable, Hashable {
    /// Docker's id of the new container.
    public var id: String
    /// Settings Docker accepted but could not apply, for example a swap limit the kernel does not support.
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case warnings = "Warnings"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }
}
