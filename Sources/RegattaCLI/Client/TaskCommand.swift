// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation

/// `regatta task …`: list and kill tasks.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "List and kill tasks.",
        subcommands: [List.self, Kill.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tasks, of one app or all.")
        @Argument(help: "App id (optional).") var appID: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let path = self.appID.map { "/v2/apps\(absoluteAppID($0))/tasks" } ?? "/v2/tasks"
            let (json, _) = try await self.options.schedulerClient().call(.GET, path)
            if self.options.json { return printJSON(json) }
            let tasks = (json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
            print(
                Table.render(
                    ["TASK", "APP", "HOST", "PORTS", "STATE"],
                    tasks.map {
                        [
                            $0["id"] as? String ?? "", $0["appId"] as? String ?? "", $0["host"] as? String ?? "",
                            (($0["ports"] as? [Int]) ?? []).map(String.init).joined(separator: ","),
                            $0["state"] as? String ?? "",
                        ]
                    }
                )
            )
        }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kill a task; with --scale it is not replaced.")
        @Argument(help: "Task id.") var taskID: String
        @Flag(name: .customLong("scale"), help: "Shrink the app instead of replacing the task.") var scale = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let body = try JSONSerialization.data(withJSONObject: ["ids": [self.taskID]])
            let (json, _) = try await self.options.schedulerClient().call(
                .POST,
                "/v2/tasks/delete\(self.scale ? "?scale=true" : "")",
                body: body
            )
            if self.options.json { return printJSON(json) }
            let killed = (json as? [String: Any])?["tasks"] as? [[String: Any]] ?? []
            guard !killed.isEmpty else { throw CLIError("task '\(self.taskID)' does not exist") }
            print("Killing \(self.taskID)")
        }
    }
}

/// `regatta deployment …`: watch and cancel deployments.
struct DeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment",
        abstract: "List, watch and cancel deployments.",
        subcommands: [List.self, Watch.self, Cancel.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List running deployments.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(.GET, "/v2/deployments")
            if self.options.json { return printJSON(json) }
            let deployments = json as? [[String: Any]] ?? []
            print(
                Table.render(
                    ["ID", "APPS", "ACTION", "VERSION"],
                    deployments.map {
                        [
                            $0["id"] as? String ?? "", ($0["affectedApps"] as? [String] ?? []).joined(separator: ","),
                            (($0["currentActions"] as? [[String: Any]])?.first?["action"] as? String) ?? "",
                            $0["version"] as? String ?? "",
                        ]
                    }
                )
            )
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wait until a deployment finishes.")
        @Argument(help: "Deployment id.") var id: String
        @Option(name: .customLong("timeout"), help: "Give up after this many seconds (default 600).") var timeout = 600
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try self.options.schedulerClient()
            let deadline = ContinuousClock.now + .seconds(self.timeout)
            while ContinuousClock.now < deadline {
                let (json, _) = try await client.call(.GET, "/v2/deployments")
                let running = (json as? [[String: Any]] ?? []).contains { $0["id"] as? String == self.id }
                if !running {
                    print("Deployment \(self.id) finished")
                    return
                }
                try await Task.sleep(for: .seconds(1))
            }
            throw CLIError("deployment \(self.id) still running after \(self.timeout)s")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Roll back a deployment (or just stop it with --force)."
        )
        @Argument(help: "Deployment id.") var id: String
        @Flag(name: .customLong("force"), help: "Stop the deployment without rolling back.") var force = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(
                .DELETE,
                "/v2/deployments/\(self.id)\(self.force ? "?force=true" : "")"
            )
            if self.options.json { return printJSON(json) }
            print(self.force ? "Cancelled \(self.id)" : "Rolling back \(self.id) (\(AppCommand.deploymentLine(json)))")
        }
    }
}

/// `regatta cluster …`: the master's view.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the cluster.",
        subcommands: [Status.self, Agents.self, Leader.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the master's metrics.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.masterClient().call(.GET, "/metrics/snapshot")
            if self.options.json { return printJSON(json) }
            let metrics = json as? [String: Any] ?? [:]
            for key in [
                "master/slaves_active", "master/frameworks_active", "master/tasks_running",
                "master/cpus_total", "master/cpus_used", "master/mem_total", "master/mem_used",
            ] {
                print("\(key): \(metrics[key] ?? 0)")
            }
        }
    }

    struct Agents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List agents.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.masterClient().call(.GET, "/master/slaves")
            if self.options.json { return printJSON(json) }
            let agents = (json as? [String: Any])?["slaves"] as? [[String: Any]] ?? []
            print(
                Table.render(
                    ["ID", "HOSTNAME", "ACTIVE", "CPUS", "MEM", "USED CPUS", "USED MEM"],
                    agents.map {
                        let resources = $0["resources"] as? [String: Any] ?? [:]
                        let used = $0["used_resources"] as? [String: Any] ?? [:]
                        return [
                            $0["id"] as? String ?? "", $0["hostname"] as? String ?? "", "\($0["active"] ?? false)",
                            "\(resources["cpus"] ?? 0)", "\(resources["mem"] ?? 0)", "\(used["cpus"] ?? 0)",
                            "\(used["mem"] ?? 0)",
                        ]
                    }
                )
            )
        }
    }

    struct Leader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the leading scheduler.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(.GET, "/v2/leader")
            if self.options.json { return printJSON(json) }
            print((json as? [String: Any])?["leader"] as? String ?? "unknown")
        }
    }
}
