// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// An agent speaks only for itself: a call naming an agent must carry the token of that agent's current
/// registration, and an UPDATE may only be about a task that runs (or ran) on the sending agent.
///
/// The token is made by the master at each registration and returned in `REGISTERED`; it stands in for the agent
/// authentication that credentials add (see `docs/security.md`).
extension MasterState {
    /// Refuses a SUBSCRIBE that would take over agent `id` while it holds a live stream, unless it carries the token
    /// of that registration (the same agent re-subscribing, or restarted with its saved token).
    ///
    /// - Throws: `MasterError.forbidden`; nothing changes.
    public func checkAgentSubscription(_ id: AgentID, presentedToken: String?) throws {
        guard let agent = self.agents[id], agent.connection != nil, !agent.unreachable,
            let expected = agent.registrationToken
        else { return }
        guard let presentedToken, ConstantTime.equals(presentedToken, expected) else {
            throw MasterError(
                .forbidden,
                "Agent '\(id)' is connected on another stream; a SUBSCRIBE that takes its place must carry the "
                    + "'registration_token' the master returned to it. If the agent restarted without its work "
                    + "directory, retry: its old stream is dropped once the master notices that it closed."
            )
        }
    }

    /// Refuses a call (UPDATE, PONG) that does not carry the token of the agent's current registration.
    static func checkToken(of agent: AgentRecord, presented: String?, call: String) throws {
        guard let expected = agent.registrationToken else { return }
        guard let presented, ConstantTime.equals(presented, expected) else {
            throw MasterError(
                .forbidden,
                "\(call) names agent '\(agent.id)' without the 'registration_token' of its current registration; "
                    + "only the agent itself may send it (an agent that re-registered must use its new token)."
            )
        }
    }

    /// Refuses an UPDATE about a task that does not run on the sending agent.
    ///
    /// Accepted: a task the master places on this agent; a finished task of this agent whose terminal update was
    /// not acknowledged yet; a task of a framework that was removed (the update is dropped).
    func checkUpdateOwnership(_ update: AgentCall.Update, from agent: AgentRecord) throws {
        let key = TaskKey(update.frameworkId, update.status.taskId)
        if let task = self.tasks[key] {
            guard task.agentID == agent.id else {
                throw MasterError(
                    .forbidden,
                    "Task '\(key.taskID)' of framework '\(key.frameworkID)' runs on agent '\(task.agentID)', not on "
                        + "'\(agent.id)'; an agent may only report its own tasks."
                )
            }
            return
        }
        if agent.terminalAwaitingAck[key] != nil { return }
        if self.completedFrameworks.contains(where: { $0.id == update.frameworkId }) { return }
        throw MasterError(
            .forbidden,
            "Task '\(key.taskID)' of framework '\(key.frameworkID)' is not known on agent '\(agent.id)'; an agent may "
                + "only report tasks it was given or reported when it subscribed."
        )
    }
}
