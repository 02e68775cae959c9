// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Saves and loads the agent's identity in `<work_dir>/meta/agent.json`, so a restarted agent re-registers
/// under the same id and its running tasks stay attached to it.
///
/// JSON (Mesos field names): `{"agent_id":{"value":"…"},"agent_info":{…}}`.
struct AgentMetaStore: Sendable {
    /// The saved identity.
    struct Meta: Codable, Hashable, Sendable {
        var agentId: AgentID
        var agentInfo: AgentInfo
        /// The master's token for the latest registration, so an agent that restarted can take its place at once
        /// even while the master still holds its old stream (absent in files written before it existed).
        var registrationToken: String?
    }

    var path: String

    /// The saved identity, or `nil` if the agent has never registered.
    ///
    /// - Throws: `AgentError.invalidMetadata` if the file exists but cannot be read or parsed.
    func load() throws -> Meta? {
        guard FileManager.default.fileExists(atPath: self.path) else { return nil }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: self.path))
            return try MesosJSON.decode(Meta.self, from: data)
        } catch {
            throw AgentError(
                .invalidMetadata,
                "Cannot read the agent id from '\(self.path)'; fix or delete the file to register as a new agent.",
                cause: error
            )
        }
    }

    /// Writes the identity atomically (a temporary file renamed over the old one).
    ///
    /// - Throws: `AgentError.workDirectory` if the file cannot be written.
    func save(_ meta: Meta) throws {
        do {
            let directory = (self.path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = MesosJSON.encoder()
            encoder.outputFormatting.insert(.sortedKeys)
            try encoder.encode(meta).write(to: URL(fileURLWithPath: self.path), options: .atomic)
        } catch {
            throw AgentError(
                .workDirectory,
                "Cannot write the agent id to '\(self.path)'; check that the work directory is writable.",
                cause: error
            )
        }
    }
}
