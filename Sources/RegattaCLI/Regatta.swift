// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

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
