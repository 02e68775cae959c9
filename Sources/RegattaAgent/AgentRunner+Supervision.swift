// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

extension AgentRunner {
    /// Launches a task's container (or, after an agent restart, takes over watching it) and reports STARTING,
    /// RUNNING and how it ended.
    ///
    /// If the agent stops first, the supervisor returns and the task keeps running (Mesos semantics).
    func supervise(_ key: TaskKey) async {
        guard let step = await self.core.beginLaunch(key) else { return }
        let containerID: ContainerID
        switch step {
        case .launch(let request):
            let launched: LaunchedContainer
            do {
                launched = try await self.runtime.launch(request)
            } catch {
                await self.core.launchFailed(key, error: error)
                return
            }
            containerID = request.containerID
            self.logger.info(
                "Task started",
                metadata: [
                    LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                    LogKey.containerID: "\(launched.containerID)",
                    LogKey.pid: "\(launched.pid.map(String.init) ?? "-")", LogKey.sandbox: "\(request.sandbox)",
                ]
            )
            if let gracePeriod = await self.core.launched(key, launched) {
                await self.killContainer(AgentCore.ContainerKill(containerID: containerID, gracePeriod: gracePeriod))
            }
        case .resume(let recovered):
            containerID = recovered
            if let gracePeriod = await self.core.launched(key, nil) {
                await self.killContainer(AgentCore.ContainerKill(containerID: containerID, gracePeriod: gracePeriod))
            }
        }
        do {
            let termination = try await self.runtime.wait(for: containerID)
            await self.core.terminated(key, termination)
        } catch let error as AgentError where error.code == .containerNotFound {
            await self.core.terminated(
                key,
                ContainerTermination(status: .unknown(reason: "its container is gone: \(error)"), killed: false)
            )
        } catch {
            // Cancelled or the runtime stopped: the agent is stopping and the task keeps running.
            self.logger.debug(
                "Stopped supervising task",
                metadata: [LogKey.taskID: "\(key.taskID)", LogKey.error: "\(error)"]
            )
        }
    }
}
