// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaModel

/// Valid models for store tests; each test tweaks what it needs.
enum StoreFixtures {
    /// A logger that drops everything, so test output stays readable.
    static let logger = Logger(label: "regatta.store.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// An ISO 8601 version string `n` seconds after a fixed instant; larger `n` sorts later.
    static func version(_ n: Int) -> String {
        let date = Date(timeIntervalSince1970: 1_700_000_000 + Double(n))
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// An app that uses most of the definition's fields, so a lossy store shows up as a difference.
    static func app(_ id: String, version: Int = 1, instances: Int = 2, cmd: String = "sleep 1000") -> AppDefinition {
        var app = AppDefinition(id: id, cmd: cmd, cpus: 0.25, mem: 64, instances: instances)
        app.version = self.version(version)
        app.env = ["MODE": "test", "URL": "http://127.0.0.1:8080/path"]
        app.labels = ["team": "storage", "unicode": "žluťoučký kůň"]
        app.constraints = [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "2"]]
        app.portDefinitions = [PortDefinition(port: 0, name: "http"), PortDefinition(port: 10_005, protocol: "udp")]
        app.healthChecks = [AppHealthCheck(protocol: "HTTP", path: "/health", portIndex: 0)]
        app.fetch = [FetchURI(uri: "https://example.invalid/artifact.tgz")]
        app.upgradeStrategy = UpgradeStrategy(minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2)
        app.versionInfo = VersionInfo(lastScalingAt: app.version!, lastConfigChangeAt: app.version!)
        return app
    }

    /// An instance of `appId` numbered `n`.
    static func instance(
        _ n: Int,
        app appId: String = "/web",
        state: TaskState = .running,
        agent: String = "agent-1"
    ) -> Instance {
        let id = "\(Instance.idPrefix(forApp: appId)).instance-\(String(format: "%08d", n))"
        var instance = Instance(
            id: id,
            appId: appId,
            version: self.version(1),
            taskId: TaskID("\(id)._app.1"),
            agentId: AgentID(agent),
            host: "10.0.0.\(n % 250 + 1)",
            ports: [31_000 + n % 1000, 32_000 + n % 1000],
            state: state,
            stagedAt: self.version(n)
        )
        instance.startedAt = state == .running ? self.version(n + 1) : nil
        instance.healthy = state == .running ? true : nil
        return instance
    }

    /// Two deployments as migration 1's stores kept them: one JSON array in the kv row `deployments`, unsorted.
    static let legacyDeployments = [
        Deployment(id: "d-2", appId: "/web", version: version(2), action: "ScaleApplication"),
        Deployment(id: "d-1", appId: "/api", version: version(1), action: "StartApplication"),
    ]

    /// ``legacyDeployments`` encoded as the old `saveDeployments` did (JSONEncoder, sorted keys).
    static func legacyDeploymentsJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(legacyDeployments), as: UTF8.self)
    }
}
