// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

@testable import RegattaAgent

@Suite struct LaunchValidationTests {
    private let processOnly: Set<ContainerInfo.ContainerType> = [.mesos]

    @Test func acceptsCommandTask() {
        let task = TestSupport.task("web.1", command: .shell("sleep 1"))
        #expect(LaunchValidation.check(task, frameworkID: "fw", supported: self.processOnly) == .accept)
    }

    @Test func failsDockerTaskWithoutDockerRuntime() {
        let task = TestSupport.task(
            "web.1",
            command: .shell("sleep 1"),
            container: ContainerInfo(type: .docker, docker: DockerInfo(image: "busybox"))
        )
        #expect(
            LaunchValidation.check(task, frameworkID: "fw", supported: self.processOnly)
                == .reject(
                    state: .failed,
                    message:
                        "This agent has no Docker containerizer; start it with --containerizers docker,mesos and a reachable Docker Engine",
                    reason: "REASON_CONTAINER_LAUNCH_FAILED"
                )
        )
    }

    @Test func refusesCustomExecutor() throws {
        var task = TestSupport.task("web.1", command: .shell("sleep 1"))
        task.executor = try MesosJSON.decode(
            ExecutorInfo.self,
            from: Data(#"{"executor_id":{"value":"e"}}"#.utf8)
        )
        #expect(
            LaunchValidation.check(task, frameworkID: "fw", supported: self.processOnly)
                == .reject(state: .error, message: "custom executors are not supported", reason: "REASON_TASK_INVALID")
        )
    }

    @Test func refusesTaskWithoutCommand() {
        let task = TestSupport.task("web.1", command: CommandInfo(shell: true, value: ""))
        guard
            case .reject(let state, _, let reason) = LaunchValidation.check(
                task,
                frameworkID: "fw",
                supported: self.processOnly
            )
        else {
            Issue.record("a task without a command must be refused")
            return
        }
        #expect(state == .error)
        #expect(reason == "REASON_TASK_INVALID")
    }

    @Test func refusesIdsThatAreNotPathComponents() {
        let task = TestSupport.task("../escape", command: .shell("true"))
        guard
            case .reject(let state, let message, _) = LaunchValidation.check(
                task,
                frameworkID: "fw",
                supported: self.processOnly
            )
        else {
            Issue.record("a task id with '/' must be refused")
            return
        }
        #expect(state == .error)
        #expect(message.contains("'../escape'"))
    }

    @Test func terminationReportsFollowCommandExecutor() {
        #expect(
            TerminationReport(ContainerTermination(status: .exited(code: 0), killed: false))
                == TerminationReport(state: .finished, message: "Command exited with status 0", reason: nil)
        )
        #expect(
            TerminationReport(ContainerTermination(status: .signaled(signal: 9), killed: false))
                == TerminationReport(
                    state: .failed,
                    message: "Command terminated with signal SIGKILL",
                    reason: "REASON_COMMAND_EXECUTOR_FAILED"
                )
        )
        #expect(
            TerminationReport(ContainerTermination(status: .signaled(signal: 15), killed: true))
                == TerminationReport(state: .killed, message: "Command terminated with signal SIGTERM", reason: nil)
        )
        #expect(TerminationReport(ContainerTermination(status: .exited(code: 1), killed: true)).state == .killed)
    }
}
