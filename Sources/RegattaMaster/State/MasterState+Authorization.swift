// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Identities and authorization: who registered a framework or an agent, and what the ACLs (`--acls`) allow.
///
/// The principal passed in is the one the HTTP layer authenticated (`nil` for an anonymous caller). Identities are
/// bound only when the master has credentials (``MasterAuthentication/bindsIdentities``): without them nobody can
/// prove who they are, and the master behaves as Mesos does without authentication.
extension MasterState {
    /// Whether the ACLs allow `principal` to do `action` to `object`; without ACLs, everything is allowed.
    public func isAuthorized(_ principal: String?, _ action: ACLs.Action, on object: ACLs.Subject) -> Bool {
        guard let acls = self.configuration.acls else { return true }
        return acls.allows(principal, action, on: object)
    }

    /// Throws 403 unless the ACLs allow `principal` to do `action` to `object`; `what` says what was refused.
    public func requireAuthorized(
        _ principal: String?,
        _ action: ACLs.Action,
        on object: ACLs.Subject,
        _ what: String
    ) throws {
        guard !self.isAuthorized(principal, action, on: object) else { return }
        throw MasterError(
            .forbidden,
            "\(Self.callerName(principal)) is not authorized to \(what) (the '\(action.name)' ACL of --acls does not "
                + "allow it)."
        )
    }

    static func callerName(_ principal: String?) -> String {
        principal.map { "Principal '\($0)'" } ?? "An unauthenticated caller"
    }

    static func callerPhrase(_ principal: String?) -> String {
        principal.map { "principal '\($0)'" } ?? "an unauthenticated caller"
    }

    /// A name as an ACL object: an empty or missing name is "unnamed" (it matches only `ANY` and `NONE` rules).
    static func subject(_ name: String?) -> ACLs.Subject {
        guard let name, !name.isEmpty else { return .unnamed }
        return .named(name)
    }

    /// The UNIX user a task runs as: for a Docker task its `user` Docker parameter, else its command's `user`, else
    /// nobody named (the image's own user, which the agent keeps: it does not apply the framework's user to Docker);
    /// for any other task its command's `user`, else its framework's.
    func user(of task: TaskInfo, framework: FrameworkID) -> String? {
        if let docker = task.container?.docker, task.container?.type == .docker {
            let parameter = docker.parameters?.last { $0.key == "user" || $0.key == "u" }?.value
            if let parameter, !parameter.isEmpty { return parameter }
            if let user = task.command?.user, !user.isEmpty { return user }
            return nil
        }
        if let user = task.command?.user, !user.isEmpty { return user }
        let info =
            self.frameworks[framework]?.info
            ?? self.completedFrameworks.last(where: { $0.id == framework })?.info
        return info?.user.isEmpty == false ? info?.user : nil
    }

    // MARK: - Frameworks

    /// The framework info to register for a SUBSCRIBE from `principal`, checked: a `principal` in the info must be
    /// the authenticated one (it is filled in when absent), a framework id already registered must be re-subscribed
    /// by the principal that registered it, and `register_frameworks` must allow each of its roles.
    ///
    /// - Throws: `MasterError.forbidden`; nothing changes.
    func checkFrameworkSubscription(_ info: FrameworkInfo, principal: String?) throws -> FrameworkInfo {
        var info = info
        if self.configuration.authentication.bindsIdentities {
            if let claimed = info.principal, claimed != principal {
                throw MasterError(
                    .forbidden,
                    principal == nil
                        ? "Framework principal '\(claimed)' is not authenticated; send HTTP Basic "
                            + "'\(claimed):<secret>' with the call."
                        : "Framework principal '\(claimed)' does not match the authenticated principal "
                            + "'\(principal!)'; leave 'framework_info.principal' out or set it to '\(principal!)'."
                )
            }
            info.principal = principal
            if let id = info.id, let existing = self.frameworks[id], let bound = existing.principal, bound != principal
            {
                throw MasterError(
                    .forbidden,
                    "Framework '\(id)' was registered by another principal; only that principal may subscribe "
                        + "with its id (subscribe without an id to register a new framework)."
                )
            }
        }
        for role in info.effectiveRoles {
            try self.requireAuthorized(
                principal,
                .registerFrameworks,
                on: .named(role),
                "register framework '\(info.name)' with role '\(role)'"
            )
        }
        return info
    }

    /// Throws 403 unless a call on framework `id`'s stream comes from the principal that registered it.
    func checkFrameworkCaller(_ id: FrameworkID, principal: String?) throws {
        guard self.configuration.authentication.bindsIdentities,
            let bound = self.frameworks[id]?.principal, bound != principal
        else { return }
        throw MasterError(
            .forbidden,
            "Framework '\(id)' was registered by another principal; calls on its stream must come from that principal."
        )
    }

    /// Tears down framework `id` for an operator (`/master/teardown`, the operator API's TEARDOWN): the
    /// `teardown_frameworks` ACL must allow `principal` to tear down frameworks of the framework's principal.
    ///
    /// - Throws: `MasterError.notFound` for an unknown framework, `.forbidden` when the ACLs refuse.
    public mutating func teardown(_ id: FrameworkID, by principal: String?, now: Duration) throws -> [MasterAction] {
        // Authorized before looked up, so a caller that may tear nothing down cannot learn which ids exist.
        try self.requireAuthorized(
            principal,
            .teardownFrameworks,
            on: Self.subject(self.frameworks[id]?.info.principal),
            "tear down framework '\(id)'"
        )
        guard self.frameworks[id] != nil else {
            throw MasterError(.notFound, "Framework '\(id)' is not registered; list frameworks with GET_FRAMEWORKS.")
        }
        return self.removeFramework(id, now: now)
    }

    // MARK: - Agents

    /// Throws 403 unless `principal` may speak for agent `id`: the principal that first registered it (kept in the
    /// registry, so across master failover), and, for a registration, one `register_agents` allows.
    public func checkAgentPrincipal(_ id: AgentID, principal: String?, call: String) throws {
        guard self.configuration.authentication.bindsIdentities, let bound = self.agentPrincipals[id],
            bound != principal
        else { return }
        throw MasterError(
            .forbidden,
            "\(call) names agent '\(id)', which was registered by another principal; only that principal may "
                + "speak for it (a new agent must register without an id, from a fresh --work_dir)."
        )
    }

    /// Throws 403 unless `register_agents` allows `principal`.
    public func checkAgentRegistration(principal: String?) throws {
        try self.requireAuthorized(principal, .registerAgents, on: .unnamed, "register agents")
    }

    /// The ACL action of an operator call on an agent (`DRAIN_AGENT`, …), or `nil` for another call.
    static func agentOperationAction(_ type: String) -> ACLs.Action? {
        switch type {
        case "DRAIN_AGENT": .drainAgents
        case "MARK_AGENT_GONE": .markAgentsGone
        case "DEACTIVATE_AGENT": .deactivateAgents
        case "REACTIVATE_AGENT": .reactivateAgents
        default: nil
        }
    }

    // MARK: - Views

    /// The state as `principal` may see it: frameworks `view_frameworks` does not allow it to see (by the
    /// framework's user) are left out with their tasks, and so are tasks `view_tasks` does not allow (by the task's
    /// user), as Mesos leaves them out of its state documents. Without ACLs, the state itself.
    public func visible(to principal: String?) -> MasterState {
        guard let acls = self.configuration.acls else { return self }
        var view = self
        func frameworkVisible(_ record: FrameworkRecord) -> Bool {
            acls.allows(principal, .viewFrameworks, on: Self.subject(record.info.user))
        }
        view.frameworks = self.frameworks.filter { frameworkVisible($0.value) }
        view.completedFrameworks = self.completedFrameworks.filter(frameworkVisible)
        var hidden = Set<TaskKey>()
        for (key, task) in self.tasks {
            let frameworkKnown = self.frameworks[key.frameworkID] != nil
            if (frameworkKnown && view.frameworks[key.frameworkID] == nil)
                || !acls.allows(
                    principal,
                    .viewTasks,
                    on: Self.subject(self.user(of: task.info, framework: key.frameworkID))
                )
            {
                hidden.insert(key)
            }
        }
        if !hidden.isEmpty {
            view.tasks = self.tasks.filter { !hidden.contains($0.key) }
            for id in view.agents.keys where !(view.agents[id]?.tasks.isDisjoint(with: hidden) ?? true) {
                view.agents[id]?.tasks.subtract(hidden)
            }
            for id in view.frameworks.keys {
                let kept = Set(view.frameworks[id]?.tasks.filter { !hidden.contains(TaskKey(id, $0)) } ?? [])
                view.frameworks[id]?.tasks = kept
            }
        }
        func completedVisible(_ task: TaskRecord) -> Bool {
            acls.allows(principal, .viewTasks, on: Self.subject(self.user(of: task.info, framework: task.frameworkID)))
        }
        for id in view.frameworks.keys { view.frameworks[id]?.completedTasks.removeAll { !completedVisible($0) } }
        for index in view.completedFrameworks.indices {
            view.completedFrameworks[index].completedTasks.removeAll { !completedVisible($0) }
        }
        return view
    }
}
