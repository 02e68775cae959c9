// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RegattaHTTP
import RegattaTestKit
import Testing

/// The README's secure multi-machine layout, all of it at once, with real processes on loopback: a master with
/// `--credentials` and `--acls` serving HTTPS; an agent that authenticates with `--credential`, protects its own API
/// with `--credentials` and serves HTTPS; a scheduler that authenticates to the master as its principal and asks its
/// own callers for `--http_credentials`, serving HTTPS. Anonymous callers get 401 everywhere, the CLI with `--user` and
/// the CA deploys an app whose `user` is a real non-root account, and its task runs as that account.
@Suite(
    .serialized,
    .enabled(if: TLSTestCertificates.available, "needs the openssl CLI"),
    .enabled(if: UserSwitchTests.canSwitchUsers, "needs root and useradd"),
    .timeLimit(.minutes(4))
)
struct SecureClusterTests {
    static let credentials = """
        {"credentials": [{"principal": "ops", "secret": "ops-secret"},
                         {"principal": "marathon", "secret": "marathon-secret"},
                         {"principal": "agent", "secret": "agent-secret"}]}
        """
    /// The built-in scheduler may register and run tasks as the test user only; agents register; `ops` sees all.
    static let acls = """
        {"register_frameworks": [{"principals": {"values": ["marathon"]}, "roles": {"type": "ANY"}}],
         "run_tasks": [{"principals": {"values": ["marathon"]}, "users": {"values": ["\(UserSwitchTests.userName)"]}}],
         "register_agents": [{"principals": {"values": ["agent"]}, "agents": {"type": "ANY"}}],
         "view_frameworks": [{"principals": {"values": ["ops", "marathon"]}, "users": {"type": "ANY"}}],
         "view_tasks": [{"principals": {"values": ["ops", "marathon"]}, "users": {"type": "ANY"}}]}
        """

    static func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }

    static func basic(_ principal: String, _ secret: String) -> String {
        "Basic " + Data("\(principal):\(secret)".utf8).base64EncodedString()
    }

    static func status(_ client: HTTPClient, _ url: String, authorization: String? = nil) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await client.execute(request, timeout: .seconds(15))
        _ = try await response.body.collect(upTo: 16 << 20)
        return Int(response.status.code)
    }

    @Test func credentialsACLsAndTLSOnEveryLinkAndTheTaskRunsAsItsUser() async throws {
        let user = UserSwitchTests.userName
        let cluster = try TLSClusterTests.Cluster { pki in
            let dir = pki.directory.path
            try? Self.write(Self.credentials, dir + "/credentials.json")
            try? Self.write(Self.acls, dir + "/acls.json")
            return ["--credentials", dir + "/credentials.json", "--acls", dir + "/acls.json", "--ip", "127.0.0.1"]
        }
        try await cluster.run { cluster in
            let pki = cluster.pki
            let dir = pki.directory.path
            try Self.write(#"{"principal": "agent", "secret": "agent-secret"}"#, dir + "/agent-credential.json")
            try Self.write(#"{"credentials": [{"principal": "ops", "secret": "ops-secret"}]}"#, dir + "/agent-ops.json")
            try Self.write("marathon-secret\n", dir + "/marathon-secret")
            let https = try TLSClusterTests.client(.init(caFile: pki.caFile))
            let ops = Self.basic("ops", "ops-secret")

            // Given an agent and a scheduler with their credentials, all serving HTTPS
            let agentPort = freePort()
            try cluster.startAgent(
                "agent-secure",
                port: agentPort,
                cluster.serverFlags + [
                    "--tls_ca_file", pki.caFile, "--credential", dir + "/agent-credential.json", "--credentials",
                    dir + "/agent-ops.json",
                ]
            )
            let schedulerPort = freePort()
            let scheduler = "https://127.0.0.1:\(schedulerPort)"
            try cluster.start(
                "scheduler",
                [
                    "scheduler", "--master", "127.0.0.1:\(cluster.masterPort)", "--http_port", "\(schedulerPort)",
                    "--store", "sqlite://\(cluster.path("scheduler.db"))", "--tls_ca_file", pki.caFile,
                    "--mesos_authentication_principal", "marathon", "--mesos_authentication_secret_file",
                    dir + "/marathon-secret", "--http_credentials", "admin:admin-pw",
                ] + cluster.serverFlags
            )
            try await eventually("the agent registered with its credential") {
                let metrics = try await https.execute(
                    {
                        var request = HTTPClientRequest(url: "\(cluster.master)/metrics/snapshot")
                        request.headers.add(name: "Authorization", value: ops)
                        return request
                    }(),
                    timeout: .seconds(15)
                )
                let body = try await metrics.body.collect(upTo: 1 << 20)
                let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                return json?["master/slaves_active"] as? Double == 1
            }

            // Then anonymous callers get 401 from every daemon, and /health and /ping stay open
            #expect(try await Self.status(https, "\(cluster.master)/master/state") == 401)
            #expect(try await Self.status(https, "https://127.0.0.1:\(agentPort)/state") == 401)
            try await eventually("the scheduler answers /ping") {
                try await Self.status(https, "\(scheduler)/ping") == 200
            }
            #expect(try await Self.status(https, "\(scheduler)/v2/apps") == 401)
            #expect(try await Self.status(https, "\(cluster.master)/health") == 200)
            #expect(try await Self.status(https, "\(cluster.master)/master/state", authorization: ops) == 200)
            #expect(try await Self.status(https, "https://127.0.0.1:\(agentPort)/state", authorization: ops) == 200)

            // When the CLI deploys an app as the test user, with --user and the CA
            let definition = cluster.path("app.json")
            try Data(
                #"{"id": "/secure", "cmd": "id -un > whoami.txt && sleep 300", "cpus": 0.1, "mem": 16, "user": "\#(user)"}"#
                    .utf8
            ).write(to: URL(fileURLWithPath: definition))
            let environment = ["REGATTA_SCHEDULER": scheduler, "REGATTA_TLS_CA_FILE": pki.caFile]
            let (anonymous, refusal) = try TLSClusterTests.regatta(
                ["app", "add", definition],
                environment: environment
            )
            #expect(anonymous != 0 && refusal.contains("--user"), "\(refusal)")
            let (status, output) = try TLSClusterTests.regatta(
                ["app", "add", definition, "--user", "admin:admin-pw"],
                environment: environment
            )
            #expect(status == 0, "regatta app add: \(output)")

            // Then the task runs, as that user
            try await eventually(timeout: .seconds(60), "the task wrote whoami.txt") {
                Self.find("whoami.txt", under: cluster.path("agent-secure")) != nil
            }
            let file = try #require(Self.find("whoami.txt", under: cluster.path("agent-secure")))
            try await eventually("whoami.txt names the user") {
                (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                    == user
            }
            // And the framework is registered under the scheduler's principal
            var request = HTTPClientRequest(url: "\(cluster.master)/master/frameworks")
            request.headers.add(name: "Authorization", value: ops)
            let frameworks = try await https.execute(request, timeout: .seconds(15))
            let body = try await frameworks.body.collect(upTo: 4 << 20)
            #expect(String(decoding: body.readableBytesView, as: UTF8.self).contains(#""principal":"marathon""#))
        }
    }

    /// The first file named `name` under `directory`.
    static func find(_ name: String, under directory: String) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return nil }
        for case let path as String in walker where (path as NSString).lastPathComponent == name {
            return directory + "/" + path
        }
        return nil
    }
}
