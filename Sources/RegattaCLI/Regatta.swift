// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation

/// The `regatta` command: daemons (`master`, `agent`, `scheduler`, `dev`) and API clients (`app`, `task`, …).
public struct Regatta: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "regatta",
        abstract: "A Mesos- and Marathon-compatible cluster manager and service scheduler.",
        version: "0.1.0",
        subcommands: [
            MasterCommand.self, AgentCommand.self, SchedulerCommand.self, DevCommand.self, AppCommand.self,
            TaskCommand.self, DeploymentCommand.self, ClusterCommand.self, SimulateAgentsCommand.self,
            BenchCommand.self,
        ]
    )

    public init() {}
}

extension Regatta {
    /// Parses the command line and runs the command.
    ///
    /// A command line that does not parse gets ArgumentParser's answer (the error and the usage). A command that
    /// parsed but refuses to run — a daemon whose flags do not fit together, an address it will not listen on without
    /// credentials, a client call the server refused — prints one line and exits non-zero: the usage would only bury
    /// the reason.
    public static func main() async {
        let parsed: any ParsableCommand
        do {
            parsed = try Self.parseAsRoot()
        } catch {
            Self.exit(withError: error)
        }
        do {
            if var command = parsed as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = parsed
                try command.run()
            }
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            Self.exit(withError: ExitCode.failure)
        } catch {
            Self.exit(withError: error)
        }
    }
}
