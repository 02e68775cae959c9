// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of a real `regatta agent` while its tasks run, then a restart on the same work directory: the tasks are
/// recovered, not launched again, and what happened while the agent was down is reported once.
@Suite(.serialized) struct AgentRecoveryTests {
    @Test func killedAgentRecoversItsTasksAndReportsWhatEndedMeanwhileOnce() async throws {
        // Given a master, an agent and a framework with two running tasks, every update acknowledged
        let cluster = try await AgentCluster(
            agentFlags: ["--resources", "cpus:2;mem:1024;disk:1024;\(uniqueAgentPorts())"])
        let framework = V1Framework(master: cluster.masterURL, failoverTimeout: 300)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            let offer = try await framework.nextOffer()
            var tasks: [TaskInfo] = []
            for (id, command) in [("long-1", "sleep 120"), ("short-1", "sleep 4; exit 3")] {
                var resources = Resources()
                try resources.add(.scalar("cpus", 0.1))
                try resources.add(.scalar("mem", 32))
                tasks.append(
                    TaskInfo(
                        name: id,
                        taskId: TaskID(id),
                        agentId: offer.agentId,
                        resources: resources,
                        command: .shell(command)
                    )
                )
            }
            var accept = SchedulerCall(frameworkId: framework.frameworkID.value, type: .accept)
            accept.accept = .init(
                offerIds: [offer.id],
                operations: [.launch(tasks)],
                filters: Filters(refuseSeconds: 1)
            )
            try await framework.send(accept)
            try await eventually("both tasks RUNNING and acknowledged") {
                try await framework.acknowledgeAll(acknowledged)
                let pending = try await cluster.agentMetric("slave/status_updates_pending")
                return framework.updates(of: "long-1").contains { $0.state == .running }
                    && framework.updates(of: "short-1").contains { $0.state == .running } && pending == 0
            }
            let longPID = try #require(cluster.pid(of: "long-1"))
            let shortPID = try #require(cluster.pid(of: "short-1"))
            let longContainer = cluster.checkpoint(of: "long-1")?["container_id"] as? [String: Any]

            // When the agent is killed with SIGKILL, and short-1 exits while it is down
            try await cluster.killAgent()
            #expect(processIsRunning(longPID), "kill -9 of the agent does not stop its tasks")
            try await eventually(timeout: .seconds(15), "short-1 exited while the agent was down") {
                !processIsRunning(shortPID)
            }
            #expect(framework.updates(of: "short-1").allSatisfy { !$0.state.isTerminal })
            try cluster.startAgent()

            // Then short-1's real exit arrives, and once acknowledged it is not sent again
            try await eventually(timeout: .seconds(30), "short-1 reported failed after the restart") {
                framework.updates(of: "short-1").contains { $0.state == .failed }
            }
            try await eventually("the agent got the acknowledgement") {
                try await framework.acknowledgeAll(acknowledged)
                return (try await cluster.agentMetric("slave/status_updates_pending")) == 0
            }
            try await Task.sleep(for: .seconds(2))
            let failed = framework.updates(of: "short-1").filter { $0.state.isTerminal }
            #expect(failed.count == 1, "\(failed)")
            #expect(failed.first?.state == .failed)
            #expect(failed.first?.message == "Command exited with status 3")
            #expect(failed.first?.reason == "REASON_COMMAND_EXECUTOR_FAILED")

            // And long-1 is the same process in the same container, RUNNING, never launched twice
            #expect(processIsRunning(longPID))
            #expect(cluster.pid(of: "long-1") == longPID)
            #expect(
                (cluster.checkpoint(of: "long-1")?["container_id"] as? [String: Any])?["value"] as? String
                    == longContainer?["value"] as? String
            )
            let longUpdates = framework.updates(of: "long-1")
            #expect(longUpdates.filter { $0.state == .starting }.count == 1, "\(longUpdates.map(\.state))")
            #expect(longUpdates.filter { $0.state == .running }.count == 1, "\(longUpdates.map(\.state))")
            #expect(cluster.checkpoints().count == 2, "no third run was created")
            // And the master still has it running (and only it)
            try await eventually("the master has long-1 running") {
                let running = try await cluster.masterMetric("master/tasks_running")
                let agents = try await cluster.activeAgents()
                return running == 1 && agents == 1
            }
            #expect(try await cluster.masterMetric("master/tasks_failed") == 1)
            #expect(try await cluster.agentMetric("slave/tasks_running") == 1)
            let state = try await HTTP.get("\(cluster.agentURL)/state")
            let executors =
                ((state.json as? [String: Any])?["frameworks"] as? [[String: Any]])?.first?["executors"]
                as? [[String: Any]]
            #expect(executors?.map { $0["id"] as? String } == ["long-1"])

            // And killing it through the master still works after the restart
            var kill = SchedulerCall(frameworkId: framework.frameworkID.value, type: .kill)
            kill.kill = .init(taskId: "long-1", agentId: offer.agentId)
            try await framework.send(kill)
            try await eventually("long-1 killed") {
                try await framework.acknowledgeAll(acknowledged)
                return framework.updates(of: "long-1").contains { $0.state == .killed }
            }
            try await eventually("long-1's process group is gone") { !processIsRunning(longPID) }
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test(.enabled(if: ServiceEnvironment.dockerEnabled, ServiceEnvironment.dockerSkipReason))
    func killedAgentRecoversADockerTask() async throws {
        // Given an agent with the Docker containerizer running a Docker task
        let cluster = try await AgentCluster(
            agentFlags: [
                "--resources", "cpus:2;mem:1024;disk:1024;\(uniqueAgentPorts())", "--containerizers", "docker,mesos",
            ])
        let framework = V1Framework(master: cluster.masterURL, failoverTimeout: 300)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            let state = try await HTTP.get("\(cluster.agentURL)/state")
            #expect((state.json as? [String: Any])?["capabilities"] as? [String] == ["DOCKER"])
            let offer = try await framework.nextOffer()
            var resources = Resources()
            try resources.add(.scalar("cpus", 0.1))
            try resources.add(.scalar("mem", 32))
            let task = TaskInfo(
                name: "docker-1",
                taskId: "docker-1",
                agentId: offer.agentId,
                resources: resources,
                command: .shell("sleep 120"),
                container: ContainerInfo(
                    type: .docker,
                    docker: DockerInfo(image: ServiceEnvironment.dockerImage, network: .host)
                )
            )
            try await framework.launch(task, on: offer)
            try await eventually(timeout: .seconds(60), "the Docker task RUNNING and acknowledged") {
                try await framework.acknowledgeAll(acknowledged)
                let pending = try await cluster.agentMetric("slave/status_updates_pending")
                return framework.updates(of: "docker-1").contains { $0.state == .running } && pending == 0
            }
            let container = cluster.checkpoint(of: "docker-1")?["container_id"] as? [String: Any]
            // When the agent is killed and restarted
            try await cluster.killAgent()
            try cluster.startAgent()
            // Then it recovers the container (same id), reports nothing new, and can still kill it
            try await eventually(timeout: .seconds(30), "the agent re-registered with the Docker task") {
                let running = try await cluster.agentMetric("slave/tasks_running")
                let agents = try await cluster.activeAgents()
                return running == 1 && agents == 1
            }
            #expect(
                (cluster.checkpoint(of: "docker-1")?["container_id"] as? [String: Any])?["value"] as? String
                    == container?["value"] as? String
            )
            #expect(framework.updates(of: "docker-1").filter { $0.state == .running }.count == 1)
            #expect(try await cluster.masterMetric("master/tasks_running") == 1)
            var kill = SchedulerCall(frameworkId: framework.frameworkID.value, type: .kill)
            kill.kill = .init(taskId: "docker-1", agentId: offer.agentId)
            try await framework.send(kill)
            try await eventually(timeout: .seconds(30), "the Docker task killed") {
                try await framework.acknowledgeAll(acknowledged)
                return framework.updates(of: "docker-1").contains { $0.state == .killed }
            }
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }
}
