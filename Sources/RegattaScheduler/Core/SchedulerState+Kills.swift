// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// KILLs: when they are sent, and sent again when no answer comes (a KILL can be lost with its agent or master).
extension SchedulerState {
    /// Queues a KILL of the instance's task (with the app's grace period); nothing while unsubscribed, when the next
    /// tick sends it instead.
    mutating func sendKill(_ instance: Instance, now: Now, _ actions: inout [Action]) {
        guard self.link.isSubscribed else { return }
        var call = self.call(.kill)
        call.kill = .init(taskId: instance.taskId, agentId: instance.agentId)
        if let grace = self.apps[instance.appId]?.taskKillGracePeriodSeconds {
            call.kill?.killPolicy = KillPolicy(gracePeriod: DurationInfo(seconds: grace))
        }
        self.link.killSentAt[instance.taskId] = now.uptime
        self.enqueueCalls([call], .kill(instance.taskId), &actions)
    }

    /// Sends KILL again for instances marked for killing whose last KILL is older than
    /// ``Configuration/killRetryInterval`` (or was never sent).
    mutating func retryKills(now: Now, _ actions: inout [Action]) {
        let due = self.instances.values.filter { instance in
            guard instance.killRequested else { return false }
            guard let sent = self.link.killSentAt[instance.taskId] else { return true }
            return now.uptime - sent >= self.configuration.killRetryInterval
        }
        for instance in due.sorted(by: { $0.id < $1.id }) { self.sendKill(instance, now: now, &actions) }
    }

    /// A KILL of a task the scheduler does not know (it is not sent again: the master reports the task again if it
    /// keeps running, and it is killed again then).
    func killUnknown(_ task: TaskID, agent: AgentID) -> SchedulerCall {
        var call = self.call(.kill)
        call.kill = .init(taskId: task, agentId: agent)
        return call
    }
}
