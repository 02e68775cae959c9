// SPDX-License-Identifier: Apache-2.0

/// A Mesos-style election node name, `json.info_0000000003`: the label, then the sequence ZooKeeper appended.
struct ElectionNode: Hashable, Sendable, Comparable {
    /// The label Mesos masters use: the node holds JSON (the older `info_` label held protobuf).
    static let label = "json.info_"

    var name: String
    var sequence: Int64

    /// Parses a child name; `nil` for anything that is not `json.info_<digits>`.
    init?(name: String) {
        guard name.hasPrefix(Self.label) else { return nil }
        let digits = name.dropFirst(Self.label.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let sequence = Int64(digits) else { return nil }
        self.name = name
        self.sequence = sequence
    }

    static func < (lhs: ElectionNode, rhs: ElectionNode) -> Bool {
        (lhs.sequence, lhs.name) < (rhs.sequence, rhs.name)
    }

    /// The election nodes among `children`, lowest sequence first.
    static func candidates(in children: [String]) -> [ElectionNode] {
        children.compactMap(ElectionNode.init(name:)).sorted()
    }
}

/// Joins a parent path and a child name.
func childPath(_ parent: String, _ child: String) -> String {
    parent.hasSuffix("/") ? parent + child : parent + "/" + child
}

extension ZooKeeperClient {
    /// Runs `body`, and after a lost connection waits for the session to reconnect and runs it again.
    /// Ends with the error if the session ends (expired, closed).
    func retryingAfterConnectionLoss<Value: Sendable>(
        _ body: () async throws -> Value
    ) async throws -> Value {
        while true {
            do {
                return try await body()
            } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                try await self.waitUntilConnected()
            }
        }
    }
}
