// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation

/// `regatta app …`: manage apps through the scheduler's Marathon API.
struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Manage apps.",
        subcommands: [
            Add.self, List.self, Show.self, Scale.self, Update.self, Restart.self, Remove.self, Versions.self,
        ]
    )

    /// Reads an app definition from a file or `-` (stdin) and checks it is a JSON object.
    static func readDefinition(_ path: String) throws -> Data {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read '\(path)': no such file or not readable")
            }
            data = contents
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw CLIError(
                "'\(path)' is not a JSON object; an app definition looks like {\"id\":\"/web\",\"cmd\":\"…\"}"
            )
        }
        return data
    }

    static func deploymentLine(_ json: Any?) -> String {
        guard let object = json as? [String: Any] else { return "" }
        if let id = object["deploymentId"] as? String { return "deployment \(id)" }
        if let deployments = object["deployments"] as? [[String: Any]], let id = deployments.first?["id"] as? String {
            return "deployment \(id)"
        }
        return ""
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an app from a JSON file, or - for stdin.")
        @Argument(help: "App definition file, or - for stdin.") var file: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let body = try AppCommand.readDefinition(self.file)
            let (json, _) = try await self.options.schedulerClient().call(.POST, "/v2/apps", body: body)
            if self.options.json { return printJSON(json) }
            let id = (json as? [String: Any])?["id"] as? String ?? "?"
            print("Created \(id) (\(AppCommand.deploymentLine(json)))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List apps.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(.GET, "/v2/apps")
            if self.options.json { return printJSON(json) }
            let apps = (json as? [String: Any])?["apps"] as? [[String: Any]] ?? []
            let rows = apps.map { app -> [String] in
                let deployments = (app["deployments"] as? [Any])?.count ?? 0
                return [
                    app["id"] as? String ?? "", "\(app["instances"] ?? 0)", "\(app["tasksRunning"] ?? 0)",
                    "\(app["tasksStaged"] ?? 0)", "\(app["cpus"] ?? "")", "\(app["mem"] ?? "")",
                    deployments > 0 ? "deploying" : "idle", (app["cmd"] as? String) ?? "",
                ]
            }
            print(Table.render(["ID", "INSTANCES", "RUNNING", "STAGED", "CPUS", "MEM", "STATUS", "CMD"], rows))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one app and its tasks.")
        @Argument(help: "App id, e.g. /hello.") var id: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(
                .GET,
                "/v2/apps\(absoluteAppID(self.id))"
            )
            if self.options.json { return printJSON(json) }
            guard let app = (json as? [String: Any])?["app"] as? [String: Any] else { return printJSON(json) }
            print("ID:        \(app["id"] ?? "")")
            print("Command:   \(app["cmd"] as? String ?? (app["args"] as? [String])?.joined(separator: " ") ?? "")")
            print(
                "Instances: \(app["instances"] ?? 0) (running \(app["tasksRunning"] ?? 0), staged \(app["tasksStaged"] ?? 0))"
            )
            print("Resources: cpus \(app["cpus"] ?? "") mem \(app["mem"] ?? "") disk \(app["disk"] ?? "")")
            print("Version:   \(app["version"] ?? "")")
            let tasks = app["tasks"] as? [[String: Any]] ?? []
            if !tasks.isEmpty {
                print("")
                print(
                    Table.render(
                        ["TASK", "HOST", "PORTS", "STATE", "STARTED"],
                        tasks.map {
                            [
                                $0["id"] as? String ?? "", $0["host"] as? String ?? "",
                                (($0["ports"] as? [Int]) ?? []).map(String.init).joined(separator: ","),
                                $0["state"] as? String ?? "", $0["startedAt"] as? String ?? "",
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an app's instance count.")
        @Argument(help: "App id.") var id: String
        @Argument(help: "Number of instances.") var instances: Int
        @Flag(name: .customLong("force"), help: "Override a running deployment.") var force = false
        @OptionGroup var options: ClientOptions

        func validate() throws {
            guard self.instances >= 0 else {
                throw ValidationError("instances must be 0 or more, not \(self.instances).")
            }
        }

        func run() async throws {
            let body = try JSONSerialization.data(withJSONObject: ["instances": self.instances])
            let (json, _) = try await self.options.schedulerClient().call(
                .PUT,
                "/v2/apps\(absoluteAppID(self.id))\(self.force ? "?force=true" : "")",
                body: body
            )
            if self.options.json { return printJSON(json) }
            print("Scaling \(absoluteAppID(self.id)) to \(self.instances) (\(AppCommand.deploymentLine(json)))")
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an app from a JSON file (fields given replace the old ones)."
        )
        @Argument(help: "App id.") var id: String
        @Argument(help: "JSON file with the fields to change, or -.") var file: String
        @Flag(name: .customLong("force"), help: "Override a running deployment.") var force = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let body = try AppCommand.readDefinition(self.file)
            let (json, _) = try await self.options.schedulerClient().call(
                .PUT,
                "/v2/apps\(absoluteAppID(self.id))\(self.force ? "?force=true" : "")",
                body: body
            )
            if self.options.json { return printJSON(json) }
            print("Updating \(absoluteAppID(self.id)) (\(AppCommand.deploymentLine(json)))")
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace all of an app's instances, rolling.")
        @Argument(help: "App id.") var id: String
        @Flag(name: .customLong("force"), help: "Override a running deployment.") var force = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(
                .POST,
                "/v2/apps\(absoluteAppID(self.id))/restart\(self.force ? "?force=true" : "")"
            )
            if self.options.json { return printJSON(json) }
            print("Restarting \(absoluteAppID(self.id)) (\(AppCommand.deploymentLine(json)))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an app and kill its tasks.")
        @Argument(help: "App id.") var id: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(
                .DELETE,
                "/v2/apps\(absoluteAppID(self.id))"
            )
            if self.options.json { return printJSON(json) }
            print("Removed \(absoluteAppID(self.id)) (\(AppCommand.deploymentLine(json)))")
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an app's stored versions, newest first.")
        @Argument(help: "App id.") var id: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let (json, _) = try await self.options.schedulerClient().call(
                .GET,
                "/v2/apps\(absoluteAppID(self.id))/versions"
            )
            if self.options.json { return printJSON(json) }
            for version in (json as? [String: Any])?["versions"] as? [String] ?? [] { print(version) }
        }
    }
}
