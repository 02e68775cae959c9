// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tasks run as their user: a real master, a real `regatta agent` running as root and a real non-root account
/// (`regatta-test-user`, created here when the machine lacks it).
@Suite(.serialized) struct UserSwitchTests {
    static let userName = "regatta-test-user"

    /// Creates the test account if needed; `nil` when it cannot exist (not root, no `useradd`).
    static func testUser() -> (uid: UInt32, gid: UInt32)? {
        guard getuid() == 0 else { return nil }
        if getpwnam(Self.userName) == nil {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            process.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Self.userName]
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
        }
        guard let entry = getpwnam(Self.userName) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    static var canSwitchUsers: Bool { Self.testUser() != nil }

    private func task(_ id: String, user: String?, command: String, on offer: Offer) throws -> TaskInfo {
        var resources = Resources()
        try resources.add(.scalar("cpus", 0.1))
        try resources.add(.scalar("mem", 32))
        var commandInfo = CommandInfo.shell(command)
        commandInfo.user = user
        return TaskInfo(
            name: id,
            taskId: TaskID(id),
            agentId: offer.agentId,
            resources: resources,
            command: commandInfo
        )
    }

    @Test(.enabled(if: canSwitchUsers, "needs root and useradd"))
    func aTaskRunsAsItsUserInASandboxItOwns() async throws {
        let (uid, gid) = try #require(Self.testUser())
        let cluster = try await AgentCluster(agentFlags: ["--resources", "cpus:1;mem:256;\(uniqueAgentPorts())"])
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            // Given a file only root may read or write
            let secret = cluster.workDir.appendingPathComponent("root-only").path
            try "secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
            chmod(secret, 0o600)
            // When a task asks to run as regatta-test-user (its framework runs as root)
            let offer = try await framework.nextOffer()
            let script =
                "id -u; id -g; whoami; echo \"$HOME\"; "
                + "if echo x >> \(secret) 2>/dev/null; then echo wrote; else echo denied; fi; "
                + "if cat \(secret) >/dev/null 2>&1; then echo read; else echo unreadable; fi; touch mine; "
                + "echo \"$GREETING\"; env | grep -c REGATTA_TASK_ENV_ || true"
            var task = try self.task("whoami-1", user: Self.userName, command: script, on: offer)
            task.command?.environment = Environment(["GREETING": "hello"])
            try await framework.launch(task, on: offer)
            try await framework.waitAcknowledging("whoami-1", .finished, acknowledged)

            // Then its output shows the user, it could neither write nor read the root-only file
            let sandbox = try #require(cluster.sandbox(of: "whoami-1"))
            let lines = try String(contentsOfFile: sandbox + "/stdout", encoding: .utf8).split(separator: "\n")
            #expect(lines.count >= 8, "\(lines)")
            #expect(lines.first == "\(uid)")
            #expect(lines.dropFirst().first == "\(gid)")
            #expect(lines.dropFirst(2).first == "\(Self.userName)")
            #expect(lines.dropFirst(4).first == "denied")
            #expect(lines.dropFirst(5).first == "unreadable")
            // And it sees its own environment under the real names, and none of the names it travelled under
            #expect(lines.dropFirst(6).first == "hello")
            #expect(lines.dropFirst(7).first == "0")
            #expect(try String(contentsOfFile: secret, encoding: .utf8) == "secret\n")
            // And the sandbox, its output files and what the task made there belong to the user
            for path in [sandbox, sandbox + "/stdout", sandbox + "/stderr", sandbox + "/mine"] {
                var info = stat()
                #expect(stat(path, &info) == 0, "\(path)")
                #expect(info.st_uid == uid, "\(path)")
                #expect(info.st_gid == gid, "\(path)")
            }
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test(.enabled(if: canSwitchUsers, "needs root and useradd"))
    func anUnknownUserFailsTheTaskNamingIt() async throws {
        let cluster = try await AgentCluster(agentFlags: ["--resources", "cpus:1;mem:256;\(uniqueAgentPorts())"])
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            let offer = try await framework.nextOffer()
            try await framework.launch(
                try self.task("ghost-1", user: "regatta-no-such-user", command: "touch ran", on: offer),
                on: offer
            )
            try await framework.waitAcknowledging("ghost-1", .failed, acknowledged)
            let failed = try #require(framework.updates(of: "ghost-1").last)
            #expect(failed.message?.hasPrefix("User 'regatta-no-such-user' does not exist on agent agent-it") == true)
            #expect(failed.reason == "REASON_CONTAINER_LAUNCH_FAILED")
            #expect(!framework.updates(of: "ghost-1").contains { $0.state == .running })
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test(.enabled(if: canSwitchUsers, "needs root and useradd"))
    func switchUserFalseRunsTasksAsTheAgent() async throws {
        let cluster = try await AgentCluster(
            agentFlags: ["--switch_user=false", "--resources", "cpus:1;mem:256;\(uniqueAgentPorts())"]
        )
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            let offer = try await framework.nextOffer()
            try await framework.launch(
                try self.task("asagent-1", user: Self.userName, command: "id -u", on: offer),
                on: offer
            )
            try await framework.waitAcknowledging("asagent-1", .finished, acknowledged)
            let sandbox = try #require(cluster.sandbox(of: "asagent-1"))
            #expect(try String(contentsOfFile: sandbox + "/stdout", encoding: .utf8) == "0\n")
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }
}
