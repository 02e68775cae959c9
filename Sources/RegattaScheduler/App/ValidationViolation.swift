// SPDX-License-Identifier: Apache-2.0

/// One entry of Marathon's 422 `details`: the JSON path of a field and what is wrong with it.
public struct ValidationViolation: Hashable, Sendable, Codable {
    /// A JSON pointer such as `/cpus` or `/portDefinitions/1/port`.
    public var path: String
    /// What is wrong, each a short sentence naming the expected value.
    public var errors: [String]

    public init(path: String, errors: [String]) {
        self.path = path
        self.errors = errors
    }
}
